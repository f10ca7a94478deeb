/** Utilisation a backend reports in its health response, as fractions of 1. */
export interface BackendLoad {
  readonly cpu?: number;
  readonly memory?: number;
}

/** One probe of one backend. A failure is a value with a reason, never an error. */
export interface ProbeResult {
  readonly backend: string;
  readonly up: boolean;
  readonly reason?: string;
  readonly load?: BackendLoad;
  /** How long the probe took, when measured. */
  readonly latencyMs?: number;
}

/** 0-1 is a fraction, above 1 up to 100 a percentage; anything else is ignored. */
function utilisation(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number) || number < 0 || number > 100) {
    return undefined;
  }
  return number <= 1 ? number : number / 100;
}

function reportedLoad(body: Record<string, unknown>): BackendLoad | undefined {
  const cpu = utilisation(body.cpu);
  const memory = utilisation(body.memory);
  if (cpu === undefined && memory === undefined) return undefined;
  return { ...(cpu === undefined ? {} : { cpu }), ...(memory === undefined ? {} : { memory }) };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Healthy when the answer is 2xx and, if the body is a JSON object with a `status` field, that
 * field is 200 (number or string) — the original's contract, plus the HTTP status it ignored.
 */
export function interpretProbe(backend: string, status: number, body: string): ProbeResult {
  if (status < 200 || status > 299) return { backend, up: false, reason: `status ${status}` };
  const json = parseObject(body);
  const load = json && reportedLoad(json);
  const withLoad = load ? { load } : {};
  if (json && 'status' in json && json.status !== 200 && json.status !== '200') {
    return {
      backend,
      up: false,
      reason: `body status ${JSON.stringify(json.status)}`,
      ...withLoad,
    };
  }
  return { backend, up: true, ...withLoad };
}

export function probeFailure(backend: string, reason: string): ProbeResult {
  return { backend, up: false, reason };
}
