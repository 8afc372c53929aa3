import type { Command } from 'commander';
import type { CriClient } from '../cri/client.js';
import { connect, describeError, type Endpoints, type GlobalOptions } from './connection.js';

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

/**
 * Wraps a client command: connects, runs, closes, and turns any failure into one
 * readable line on stderr with a non-zero exit code.
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
      const endpoint = ctx?.endpoints.runtime ?? globals.runtimeEndpoint ?? 'the runtime endpoint';
      process.stderr.write(`mascri ${command.name()}: ${describeError(error, endpoint)}\n`);
      if (globals.debug && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
      process.exitCode = 1;
    } finally {
      ctx?.client.close();
    }
  };
}

/** Collects a repeatable option into a list (`--label a=b --label c=d`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
