/**
 * Lists every skipped test by its full title after jest's summary, so that a skip and its
 * reason (which the title carries, e.g. a missing Chromium) are seen, not only counted.
 */
class SkippedReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.testResults.flatMap((file) =>
      file.testResults.filter((test) => test.status === 'pending').map((test) => test.fullName),
    );
    for (const name of skipped) process.stderr.write(`Skipped: ${name}\n`);
  }
}

module.exports = SkippedReporter;
