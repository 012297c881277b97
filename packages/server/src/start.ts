import { fileURLToPath, pathToFileURL } from 'node:url';
import { LauncherError, relaunchWithV8Flags } from './launcher.js';

const ENTRY = fileURLToPath(import.meta.url);

/**
 * The server's process entry point (`npm start`, `openhotline start`, `node dist/start.js`): gives the process the
 * V8 flags this machine needs (launcher.ts), in a child process when this one was started without them, then runs
 * the server. Resolves with the child's exit code when the server ran in a child, and `undefined` once the server
 * runs in this process. The server's modules load only where it runs, so a launching parent stays small.
 */
export async function startProcess(argv: readonly string[]): Promise<number | undefined> {
  const code = await relaunchWithV8Flags(ENTRY, argv);
  if (code !== undefined) return code;
  const { main } = await import('./main.js');
  await main([...argv]);
  return undefined;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  startProcess(process.argv.slice(2)).then(
    (code) => {
      if (code !== undefined) process.exit(code);
    },
    (error: unknown) => {
      // A bad OPENHOTLINE_GC is a configuration mistake (exit 2, as a bad configuration value); anything else a failure.
      if (error instanceof LauncherError) {
        process.stderr.write(`openhotline: ${error.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`openhotline: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
