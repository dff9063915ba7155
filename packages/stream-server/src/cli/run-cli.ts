import {
  commandUsage,
  parseCommandArgs,
  UsageError,
  usageLine,
  type CliCommand,
  type CommandContext,
} from './command.js';

/** What `runCli` needs: the command table, the program's name and version, and where it writes. */
export interface CliOptions extends CommandContext {
  commands: readonly CliCommand[];
  program: string;
  version: string;
  /** Closing lines of the general help (e.g. where configuration is documented). */
  footer?: string;
}

const HELP_FLAGS = new Set(['--help', '-h']);

/**
 * Runs one command line: `help`, `--help`/`-h`, `help <command>` and `<command> --help` print usage (exit 0),
 * `--version` the version; anything else runs the named command. Usage mistakes throw `UsageError`.
 */
export async function runCli(argv: readonly string[], options: CliOptions): Promise<number> {
  const { commands, program, stdout, stderr } = options;
  const [first, ...rest] = argv;
  const find = (name: string) => commands.find((command) => command.name === name);
  if (first === undefined) {
    stderr.write(`${generalUsage(options)}\n`);
    return 2;
  }
  if (first === '--version' || first === '-v' || first === 'version') {
    stdout.write(`${options.version}\n`);
    return 0;
  }
  if (first === 'help' || HELP_FLAGS.has(first)) {
    const topic = rest[0];
    if (topic === undefined) {
      stdout.write(`${generalUsage(options)}\n`);
      return 0;
    }
    const command = find(topic);
    if (!command) throw new UsageError(`unknown command "${topic}"`);
    stdout.write(`${commandUsage(command, program)}\n`);
    return 0;
  }
  const command = find(first);
  if (!command) {
    if (first.startsWith('-')) throw new UsageError(`unknown option '${first}'`);
    throw new UsageError(`unknown command "${first}"`);
  }
  // `--help` anywhere before a `--` asks for help, whatever else is on the line.
  const end = rest.indexOf('--');
  if ((end === -1 ? rest : rest.slice(0, end)).some((arg) => HELP_FLAGS.has(arg))) {
    stdout.write(`${commandUsage(command, program)}\n`);
    return 0;
  }
  try {
    return await command.run(parseCommandArgs(command, rest), options);
  } catch (error) {
    if (error instanceof UsageError) error.command ??= command.name;
    throw error;
  }
}

function generalUsage({ commands, program, footer }: CliOptions): string {
  const rows = commands.map((command) => [usageLine(command), command.summary] as const);
  const width = Math.max(...rows.map(([line]) => line.length));
  const lines = [
    `Usage: ${program} <command> [options]`,
    '',
    'Commands:',
    ...rows.map(([line, summary]) => `  ${line.padEnd(width)}  ${summary}`),
    '',
    `Run "${program} help <command>" (or "${program} <command> --help") for a command's options;`,
    `"${program} --version" prints the version.`,
  ];
  if (footer) lines.push('', footer);
  return lines.join('\n');
}
