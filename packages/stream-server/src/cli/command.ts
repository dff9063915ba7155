import { parseArgs } from 'node:util';

/** A mistake in how the command was called: reported in one line with exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The command whose usage was wrong, for the hint that follows the message. */
  command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/** One option of a command, as `node:util` `parseArgs` takes it, with what `--help` shows. */
export interface CommandOption {
  type: 'string' | 'boolean';
  short?: string;
  /** What the value is, shown in the usage line: `<user-id>`. */
  value?: string;
  description: string;
}

/** The parsed arguments a command runs with. */
export interface CommandArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Where a command writes and what it reads from its surroundings (so tests can give their own). */
export interface CommandContext {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * One `notetaker-stream` command. The CLI's command table is a list of these: a new command is one more entry, and
 * its `--help` text comes from its own fields.
 */
export interface CliCommand {
  name: string;
  /** Positional arguments in the usage line, e.g. `<file>`. */
  args?: string;
  /** One line for the command list. */
  summary: string;
  /** More lines for `<command> --help`. */
  details?: string;
  options?: Record<string, CommandOption>;
  /** Runs the command; resolves with the exit code. */
  run(args: CommandArgs, context: CommandContext): Promise<number>;
}

/** Parses `argv` for `command`; an unknown option or a missing value becomes a `UsageError`. */
export function parseCommandArgs(command: CliCommand, argv: string[]): CommandArgs {
  const options = Object.fromEntries(
    Object.entries(command.options ?? {}).map(([name, { type, short }]) => [
      name,
      short ? { type, short } : { type },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals: command.args !== undefined,
      strict: true,
    });
    return { values: values as CommandArgs['values'], positionals };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (!code?.startsWith('ERR_PARSE_ARGS')) throw error;
    // parseArgs explains itself at length ("To specify a positional argument starting with a '-'…"): keep the
    // first sentence.
    throw new UsageError(`${command.name}: ${message.split('. ')[0]!.replace(/\.$/, '')}`, command.name);
  }
}

/** The usage of one command: its line, its details and its options. */
export function commandUsage(command: CliCommand, program: string): string {
  const options = Object.entries(command.options ?? {});
  const lines = [`Usage: ${program} ${usageLine(command)}`, '', command.summary];
  if (command.details) lines.push('', command.details);
  if (options.length > 0) {
    lines.push('', 'Options:');
    const rows = options.map(([name, option]) => [optionLabel(name, option), option.description] as const);
    rows.push(['-h, --help', 'Print this help']);
    const width = Math.max(...rows.map(([label]) => label.length));
    for (const [label, description] of rows) lines.push(`  ${label.padEnd(width)}  ${description}`);
  }
  return lines.join('\n');
}

/** `import <file> [options]`. */
export function usageLine(command: CliCommand): string {
  const parts = [command.name];
  if (command.args) parts.push(command.args);
  if (Object.keys(command.options ?? {}).length > 0) parts.push('[options]');
  return parts.join(' ');
}

function optionLabel(name: string, option: CommandOption): string {
  const flag = `${option.short ? `-${option.short}, ` : ''}--${name}`;
  return option.value ? `${flag} ${option.value}` : flag;
}
