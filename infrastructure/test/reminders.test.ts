// Reminders on AWS: the hourly schedule that runs a pass in each region's jobs function, and
// the SES identity the mail is sent from.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REMINDER_EVENT_PATH } from "../src/lambda";
import { LoadedProgram, loadProgram, ofType, RecordedResource, TEST_CONFIG } from "./mocks";

const REGIONS = ["us-east-1", "us-east-2"] as const;
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function plain(value: any): any {
    return value && typeof value === "object" && value[SECRET_SIG] !== undefined ? value.value : value;
}

function inRegion(resources: RecordedResource[], region: string): RecordedResource {
    const found = resources.filter((r) => r.region === region);
    assert.equal(found.length, 1, `expected one in ${region}, got ${found.map((r) => r.name).join(", ")}`);
    return found[0];
}

describe("reminders (EventBridge schedule, SES)", () => {
    let program: LoadedProgram;
    before(async () => {
        program = await loadProgram();
    });

    it("runs a reminder pass every hour in each region", () => {
        const rules = ofType(program, "aws:cloudwatch/eventRule:EventRule");
        assert.deepEqual(rules.map((r) => r.region).sort(), [...REGIONS]);
        for (const rule of rules) {
            assert.equal(rule.inputs.scheduleExpression, "rate(1 hour)", rule.name);
        }
    });

    it("targets the region's jobs function with the reminder event the backend serves", () => {
        const event = JSON.parse(fs.readFileSync(REMINDER_EVENT_PATH, "utf8"));
        assert.equal(path.basename(REMINDER_EVENT_PATH), "reminder-event.json");
        assert.equal(event.rawPath, "/api/internal/reminders/run");
        assert.equal(event.requestContext.http.method, "POST");
        assert.equal(event.requestContext.apiId, "home-inventory-jobs");
        const targets = ofType(program, "aws:cloudwatch/eventTarget:EventTarget");
        const rules = ofType(program, "aws:cloudwatch/eventRule:EventRule");
        const functions = ofType(program, "aws:lambda/function:Function");
        for (const region of REGIONS) {
            const target = inRegion(targets, region);
            const rule = inRegion(rules, region);
            const jobs = functions.find((f) => f.region === region && f.name.startsWith("home-inventory-jobs-"))!;
            assert.equal(target.inputs.rule, rule.state.name ?? rule.inputs.name);
            assert.equal(target.inputs.arn, jobs.state.arn, "the jobs function: up to 15 minutes a pass");
            assert.deepEqual(JSON.parse(target.inputs.input), event);
        }
    });

    it("lets EventBridge invoke the jobs function from that rule only", () => {
        const permissions = ofType(program, "aws:lambda/permission:Permission").filter(
            (p) => p.inputs.principal === "events.amazonaws.com",
        );
        assert.equal(permissions.length, 2);
        for (const region of REGIONS) {
            const permission = inRegion(permissions, region);
            const rule = inRegion(ofType(program, "aws:cloudwatch/eventRule:EventRule"), region);
            assert.equal(permission.inputs.action, "lambda:InvokeFunction");
            assert.equal(permission.inputs.function, `home-inventory-jobs-${region}`);
            assert.equal(permission.inputs.sourceArn, rule.state.arn);
        }
    });

    it("verifies the site's domain in SES in each region, with Easy DKIM records in its zone", () => {
        const identities = ofType(program, "aws:sesv2/emailIdentity:EmailIdentity");
        assert.deepEqual(identities.map((i) => i.region).sort(), [...REGIONS]);
        const records = ofType(program, "aws:route53/record:Record").filter((r) =>
            String(r.inputs.name).includes("._domainkey."),
        );
        assert.equal(records.length, 6, "three DKIM records per region");
        for (const identity of identities) {
            assert.equal(identity.inputs.emailIdentity, TEST_CONFIG.domainName);
            for (const token of identity.state.dkimSigningAttributes.tokens) {
                const record = records.find((r) => r.inputs.name === `${token}._domainkey.${TEST_CONFIG.domainName}`);
                assert.ok(record, `no DKIM record for ${token}`);
                assert.equal(record.inputs.type, "CNAME");
                assert.deepEqual(record.inputs.records, [`${token}.dkim.amazonses.com`]);
            }
        }
    });

    it("lets the functions' roles send mail (digests, address confirmations), only from the site's domain", () => {
        const policies = ofType(program, "aws:iam/rolePolicy:RolePolicy");
        const senders = policies.filter((p) => /^home-inventory-(jobs|api)-us-east-[12]$/.test(p.name));
        assert.equal(senders.length, 4, policies.map((p) => p.name).join(", "));
        for (const policy of policies) {
            const statements: any[] = JSON.parse(plain(policy.inputs.policy)).Statement;
            const mail = statements.find((s) => s.Sid === "SendReminderMail");
            if (!senders.includes(policy)) {
                assert.equal(mail, undefined, `${policy.name} may not send mail`);
                continue;
            }
            assert.ok(mail, `${policy.name} can't send the reminder mail`);
            assert.deepEqual(mail.Action, ["ses:SendEmail", "ses:SendRawEmail"]);
            assert.match(mail.Resource, /^arn:aws:ses:us-east-[12]:\d{12}:identity\/\*$/);
            assert.deepEqual(mail.Condition.StringLike["ses:FromAddress"], [
                `*@${TEST_CONFIG.domainName}`,
                `*@*.${TEST_CONFIG.domainName}`,
            ]);
        }
    });

    it("tells both functions where and as whom to send mail", () => {
        for (const f of ofType(program, "aws:lambda/function:Function")) {
            const env = plain(f.inputs.environment).variables;
            assert.equal(env.SES_REGION, f.region, f.name);
            assert.equal(env.MAIL_FROM, `Home Inventory <reminders@${TEST_CONFIG.domainName}>`, f.name);
        }
    });
});
