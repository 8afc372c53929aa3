import type { Command } from 'commander';
import type { CriClient } from '../cri/client.js';
import { connect, connectionHint, describeError, type Endpoints, type GlobalOptions } from './connection.js';
import { logLine } from './log-line.js';

/** What a client command's action receives: a connected client and the endpoints it used. */
export interface ClientContext {
  client: CriClient;
  endpoints: Endpoints;
  globals: GlobalOptions;
}

/** Global options of the program a subcommand belongs to. */
export function globalsOf(command: Command): GlobalOptions {
  let root = command;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}

/** Prints a failed command's line as crictl does (logrus, level error) and sets exit code 1. */
export function reportFailure(error: unknown, globals: GlobalOptions, endpoints?: Endpoints): void {
  const fallback = globals.runtimeEndpoint ?? 'the runtime endpoint';
  logLine('error', describeError(error, endpoints ?? fallback));
  const hint = process.stderr.isTTY ? connectionHint(error, endpoints?.runtime ?? fallback) : undefined;
  if (hint) process.stderr.write(hint + '\n');
  if ((globals.debug || endpoints?.debug) && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
  process.exitCode = 1;
}

/**
 * Wraps a client command: reads the config file, connects, runs, closes, and turns any failure
 * into crictl's one error line on stderr with exit code 1.
 */
export function clientAction<A extends unknown[]>(
  run: (ctx: ClientContext, ...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const command = args[args.length - 1] as Command;
    const globals = globalsOf(command);
    let ctx: ClientContext | undefined;
    try {
      const { client, endpoints } = connect(globals);
      ctx = { client, endpoints, globals };
      await run(ctx, ...args);
    } catch (error) {
      reportFailure(error, globals, ctx?.endpoints);
    } finally {
      ctx?.client.close();
    }
  };
}

/** Collects a repeatable option into a list (`--label a=b --label c=d`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
