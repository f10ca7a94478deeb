const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

/** The CLI tests run the built dist/cli.js as a real process, so build it from the current sources. */
module.exports = () => {
  const root = join(__dirname, '..');
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
};
