// The command table and its help, in process (the process-level behaviour is in cli.test.ts).
import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { UsageError } from '../src/cli/command.js';
import { createCommands, type StartServer } from '../src/cli/commands/index.js';
import { runCli } from '../src/cli/run-cli.js';

const NAMES = ['serve', 'worker', 'migrate', 'import', 'list', 'delete', 'retry', 'token'];

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

async function run(argv: string[]) {
  const stdout = capture();
  const stderr = capture();
  const started: string[] = [];
  const startServer: StartServer = async () => {
    started.push('server');
    throw new Error('not started in these tests');
  };
  const code = await runCli(argv, {
    commands: createCommands(async () => startServer),
    program: 'notetaker-stream',
    version: '9.8.7',
    env: {},
    stdout: stdout.stream,
    stderr: stderr.stream,
  }).catch((error: unknown) => error);
  return { code, stdout: stdout.text(), stderr: stderr.text(), started };
}

describe('the CLI command table', () => {
  it('lists every command once, in order, in the general help', async () => {
    const { code, stdout } = await run(['help']);
    expect(code).toBe(0);
    const listed = [...stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((match) => match[1]);
    expect(listed).toEqual(NAMES);
  });

  it.each(NAMES)(
    'prints the same usage of %s for "help %s", "%s --help" and "%s -h" (exit 0)',
    async (name) => {
      const answers = await Promise.all([
        run(['help', name]),
        run([name, '--help']),
        run([name, '-h']),
        run([name, '--unknown', '--help']),
      ]);
      for (const answer of answers) {
        expect(answer.code).toBe(0);
        expect(answer.stderr).toBe('');
        expect(answer.started).toEqual([]);
        expect(answer.stdout).toBe(answers[0]!.stdout);
      }
      expect(answers[0]!.stdout).toMatch(new RegExp(`^Usage: notetaker-stream ${name}\\b`));
    },
  );

  it('shows each option of a command with its value and description', async () => {
    const { stdout } = await run(['help', 'token']);
    expect(stdout).toMatch(/^ {2}--sub <user-id> +The user the token is for \(required\)$/m);
    expect(stdout).toMatch(/^ {2}--ttl <seconds\|30m\|12h\|7d> +How long it is valid \(default 12h\)$/m);
    expect(stdout).toMatch(/^ {2}-h, --help +Print this help$/m);
  });

  it('prints the version for --version', async () => {
    expect(await run(['--version'])).toMatchObject({ code: 0, stdout: '9.8.7\n' });
  });

  it('prints the usage on stderr and exits 2 without a command', async () => {
    const { code, stdout, stderr } = await run([]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^Usage: notetaker-stream <command> \[options\]/);
  });

  it.each([
    [['frob'], 'unknown command "frob"', undefined],
    [['help', 'frob'], 'unknown command "frob"', undefined],
    [['--frob'], "unknown option '--frob'", undefined],
    [['list', '--frob'], "list: Unknown option '--frob'", 'list'],
    [['delete'], 'delete needs at least one video id', 'delete'],
    [['migrate', 'extra'], "migrate: Unexpected argument 'extra'", 'migrate'],
  ])('refuses %j with a UsageError naming the command for the hint', async (argv, message, command) => {
    const { code } = await run(argv);
    expect(code).toBeInstanceOf(UsageError);
    expect((code as UsageError).message).toBe(message);
    expect((code as UsageError).command).toBe(command);
  });
});
