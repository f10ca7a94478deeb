import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';

export interface Blackhole {
  /** A loopback port whose listen queue is full: new connections hang in SYN-SENT. */
  readonly port: number;
  close(): void;
}

/**
 * A listener with a backlog of zero that never accepts, its queue filled by two connections,
 * so that further connects on loopback neither succeed nor fail until they time out.
 */
export async function startBlackhole(): Promise<Blackhole> {
  const listener = spawn(
    'python3',
    [
      '-c',
      'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\n' +
        'print(s.getsockname()[1],flush=True)\ntime.sleep(120)',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    listener.once('error', reject);
    listener.stdout?.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
  });
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const filler = connect(port, '127.0.0.1');
    filler.on('error', () => undefined);
    fillers.push(filler);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  return {
    port,
    close: () => {
      for (const filler of fillers) filler.destroy();
      listener.kill('SIGKILL');
    },
  };
}
