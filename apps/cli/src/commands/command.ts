import type { Context } from '../context';

/** A command reads its own arguments; it throws to fail (run.ts turns that into an exit code). */
export type Command = (ctx: Context, args: string[]) => Promise<void>;
