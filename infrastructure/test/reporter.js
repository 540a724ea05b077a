// Mocha's spec reporter, plus a last line "N passed, N failed" that any CI log reader
// can count.

"use strict";

const Mocha = require("mocha");

class SpecWithSummary extends Mocha.reporters.Spec {
    constructor(runner, options) {
        super(runner, options);
        runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
            const { passes, failures, pending } = runner.stats;
            const skipped = pending ? `, ${pending} skipped` : "";
            process.stdout.write(`${passes} passed, ${failures} failed${skipped}\n`);
        });
    }
}

module.exports = SpecWithSummary;
