// What reading WebSocket frame headers costs a byte tunnel: at least 100 MB and 2 million frames
// per round, as one direction of a connection would see them, fed to FrameScanner in 64 KiB
// chunks. Five timed rounds after a warm-up; prints the median ns per frame and MB/s.
//
//   npm run bench:frames

import { cpus, loadavg } from 'node:os';
import { FrameScanner, ScanResult } from '../src/net/wsFrameScanner';
import { frame, OP } from '../spec/helpers/wsFrames';
import { median } from './lib/stats';

const STREAM_BYTES = 4 * 1024 * 1024;
const TOTAL_BYTES = 100 * 1000 * 1000;
/** Large frames pass 100 MB in too few frames to time: their rounds go on to this many frames. */
const MIN_FRAMES = 2_000_000;
const CHUNK = 64 * 1024;
const ROUNDS = 5;
const KEY = Buffer.from([0x5a, 0x17, 0xc3, 0x08]);

interface Workload {
  readonly name: string;
  readonly payload: number;
  readonly masked: boolean;
}

const workloads: Workload[] = [
  { name: '32 B messages, masked (client to server)', payload: 32, masked: true },
  { name: '32 B messages, unmasked (server to client)', payload: 32, masked: false },
  { name: '16 KiB messages, masked (client to server)', payload: 16 * 1024, masked: true },
  { name: '16 KiB messages, unmasked (server to client)', payload: 16 * 1024, masked: false },
];

/** Whole frames filling about 4 MiB, cut into 64 KiB chunks; repeated it is one valid stream. */
function chunksOf(workload: Workload): { chunks: Buffer[]; frames: number } {
  const one = frame(OP.binary, Buffer.alloc(workload.payload, 0x41), {
    key: workload.masked ? KEY : undefined,
  });
  const frames = Math.floor(STREAM_BYTES / one.length);
  const stream = Buffer.concat(Array.from({ length: frames }, () => one));
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; at += CHUNK) chunks.push(stream.subarray(at, at + CHUNK));
  return { chunks, frames };
}

/** One round: the stream scanned over and over (100 MB, 2 M frames at least); ns per frame, MB/s. */
function round(workload: Workload, chunks: Buffer[], frames: number) {
  const scanner = new FrameScanner({ masked: workload.masked, maxMessageSize: 16 * 1024 * 1024 });
  const streamBytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const repeats = Math.max(Math.ceil(TOTAL_BYTES / streamBytes), Math.ceil(MIN_FRAMES / frames));
  const started = process.hrtime.bigint();
  for (let r = 0; r < repeats; r++) {
    for (const chunk of chunks) {
      if (scanner.scan(chunk) !== ScanResult.Ok) throw new Error('unexpected scan result');
    }
  }
  const ns = Number(process.hrtime.bigint() - started);
  if (scanner.messages !== frames * repeats) throw new Error('miscounted messages');
  return {
    nsPerFrame: ns / (frames * repeats),
    mbPerSecond: ((streamBytes * repeats) / ns) * 1000,
  };
}

function main(): void {
  const load = () => loadavg()[0]?.toFixed(2) ?? '?';
  console.log(
    `${cpus().length} cores, Node ${process.version}, load average ${load()} at the start`,
  );
  console.log(
    `at least ${TOTAL_BYTES / 1e6} MB and ${MIN_FRAMES / 1e6} M frames a round, ${CHUNK / 1024} KiB chunks, median of ${ROUNDS}`,
  );
  for (const workload of workloads) {
    const { chunks, frames } = chunksOf(workload);
    round(workload, chunks, frames);
    const rounds = Array.from({ length: ROUNDS }, () => round(workload, chunks, frames));
    const ns = median(rounds.map((r) => r.nsPerFrame));
    const mb = median(rounds.map((r) => r.mbPerSecond));
    console.log(
      `  ${workload.name.padEnd(46)} ${ns.toFixed(1).padStart(8)} ns/frame ${mb.toFixed(0).padStart(8)} MB/s`,
    );
  }
  console.log(`load average ${load()} at the end`);
}

main();
