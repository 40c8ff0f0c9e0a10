'use strict';
// Mocha reporter: the spec reporter's output, then one closing line that CI reads:
// `N passed, N failed`, plus `, N not run` when a failing hook kept tests from running (mocha
// counts the hook as one failure and says nothing of the tests it skipped), and `, N skipped`.
const Mocha = require('mocha');

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    this.planned = runner.total;
    this.ended = 0;
    // A failing hook also emits `fail`, with the hook as the runnable: only tests count as ended.
    runner.on(EVENT_TEST_PASS, () => { this.ended++; });
    runner.on(EVENT_TEST_PENDING, () => { this.ended++; });
    runner.on(EVENT_TEST_FAIL, (runnable) => { if (runnable.type === 'test') this.ended++; });
  }

  epilogue() {
    super.epilogue();
    const { passes, failures, pending } = this.stats;
    const notRun = Math.max(0, this.planned - this.ended);
    process.stdout.write(`${passes} passed, ${failures} failed${notRun ? `, ${notRun} not run (a hook failed)` : ''}${pending ? `, ${pending} skipped` : ''}\n`);
  }
}
module.exports = SummaryReporter;
