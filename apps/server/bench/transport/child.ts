import { type ChildProcess, fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** Every IPC message has a `type`; the rest is the message's own. */
type Message = { type: string };

const children = new Set<BenchChild>();

/**
 * A bench process forked from this one (a TypeScript file: it inherits this
 * process's tsx loader flags), spoken to over IPC with `{ type, ... }`
 * messages. Every wait is bounded, and a child that exits fails its waiters.
 */
export class BenchChild {
  private readonly waiters: Array<{ type: string; resolve(m: Message): void; reject(e: Error): void }> = [];
  private readonly handlers = new Map<string, (message: Message & Record<string, unknown>) => void>();
  private exitError: Error | null = null;
  readonly exited: Promise<void>;
  readonly process: ChildProcess;

  constructor(
    readonly name: string,
    script: string,
    extraExecArgv: string[] = [],
  ) {
    this.process = fork(script, [], {
      execArgv: [...process.execArgv, ...extraExecArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(this);
    this.process.on('message', (message: Message) => {
      const index = this.waiters.findIndex((w) => w.type === message.type);
      if (index >= 0) {
        const [waiter] = this.waiters.splice(index, 1);
        waiter?.resolve(message);
        return;
      }
      this.handlers.get(message.type)?.(message as Message & Record<string, unknown>);
    });
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code, signal) => {
        children.delete(this);
        this.exitError = new Error(`${name} exited (${code ?? signal})`);
        for (const waiter of this.waiters.splice(0)) waiter.reject(this.exitError);
        resolve();
      });
    });
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  /** Messages of `type` nobody waits for go to `handler`. */
  on(type: string, handler: (message: Message & Record<string, unknown>) => void): void {
    this.handlers.set(type, handler);
  }

  /** The next message of `type`, within `timeoutMs`. */
  next<T extends Message>(type: string, timeoutMs: number): Promise<T> {
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error(`${this.name}: no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        type,
        resolve: (message: Message) => {
          clearTimeout(timer);
          resolve(message as T);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Sends `message` and waits for the answer of `replyType`. */
  request<T extends Message, M extends Message = Message & Record<string, unknown>>(
    message: M,
    replyType: string,
    timeoutMs: number,
  ): Promise<T> {
    const reply = this.next<T>(replyType, timeoutMs);
    this.process.send(message);
    return reply;
  }

  send<M extends Message>(message: M): void {
    this.process.send(message);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill('SIGTERM');
    const exited = await Promise.race([this.exited.then(() => true), sleep(graceMs, false, { ref: false })]);
    if (!exited) {
      this.process.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Ends every child this process forked and has not stopped yet (each by its own handle). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((child) => child.stop(1_000)));
}
