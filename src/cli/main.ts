// `sganc`: dispatches to the command named by the first argument. Exit codes: 0 success, 1 errors
// in the input (diagnostics, unreadable files), 2 usage errors.
import { commands } from './commands/index.ts';
import { closestName } from '../runtime/train/options.ts';

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: sganc COMMAND [options]',
    '',
    'sganc compiles StyleGAN models written in .sgan files.',
    '',
    'Commands:',
    ...lines,
    '',
    "Run 'sganc COMMAND --help' for the options of a command, 'sganc --version' for the version.",
  ].join('\n');
}

/** Exits quietly when the reader of stdout goes away, as in `sganc metrics RUN | head -1`. */
function exitOnClosedPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}

export async function main(argv: string[]): Promise<number> {
  exitOnClosedPipe();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const stream = name === undefined ? process.stderr : process.stdout;
    stream.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    // Loaded on demand: the emitter pulls in ts-morph, which every other path avoids at start-up.
    const { compilerVersion } = await import('../emit/index.ts');
    process.stdout.write(`sganc ${compilerVersion()}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    const suggestion = closestName(name, commands.map((c) => c.name));
    const hint = suggestion === undefined ? '' : `; did you mean '${suggestion}'?`;
    process.stderr.write(`sganc: error: unknown command '${name}'${hint}\nRun 'sganc --help' for the commands.\n`);
    return 2;
  }
  const run = await command.load();
  return run(rest);
}

// Direct runs (`tsx src/cli/main.ts ...`); bin/sganc.mjs imports main() instead.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
