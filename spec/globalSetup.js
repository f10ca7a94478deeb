const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

/**
 * The CLI tests run the built dist/cli.js as a real process, so build it from the current
 * sources. tsc still emits on type errors; those are reported by `npm run typecheck`, so a
 * failed build here does not stop the other suites.
 */
module.exports = () => {
  const root = join(__dirname, '..');
  try {
    execFileSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: root, stdio: 'pipe' },
    );
  } catch (error) {
    process.stderr.write(`dist/ was built with type errors:\n${String(error.stdout)}\n`);
  }
};
