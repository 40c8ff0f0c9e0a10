'use strict';
// Mocha reporter: the spec reporter's output, then one closing line `N passed, N failed` that CI reads.
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  epilogue() {
    super.epilogue();
    const { passes, failures, pending } = this.stats;
    process.stdout.write(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}\n`);
  }
}
module.exports = SummaryReporter;
