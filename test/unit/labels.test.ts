/** Session labels with Kubernetes' rules, and label selectors. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkLabels,
  keyProblem,
  MAX_LABELS,
  matches,
  parseSelector,
  valueProblem,
} from "../../daemon/session/labels.js";
import { SessionError } from "../../daemon/session/session-error.js";

/** Whether `check` throws an INVALID_ARGUMENT SessionError whose message matches `message`. */
function refuses(check: () => unknown, message: RegExp): void {
  assert.throws(check, (error: unknown) => {
    assert.ok(error instanceof SessionError);
    assert.equal(error.code, "invalid-argument");
    assert.match(error.message, message);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
}

describe("label keys and values", () => {
  it("takes what Kubernetes takes", () => {
    for (const key of [
      "team",
      "a",
      "app.kubernetes.io/name",
      "x_y-z.1",
      "A9",
      "e.com/T",
      "z".repeat(63),
    ])
      assert.equal(keyProblem(key), undefined, key);
    for (const value of ["", "api", "v1.2_3-b", "Z", "q".repeat(63)])
      assert.equal(valueProblem(value), undefined, value);
  });

  it("refuses what Kubernetes refuses, saying why", () => {
    assert.match(keyProblem("") ?? "", /name is empty/);
    assert.match(keyProblem("-team") ?? "", /starting and ending with a letter or digit/);
    assert.match(keyProblem("team-") ?? "", /starting and ending/);
    assert.match(keyProblem("te am") ?? "", /letters, digits/);
    assert.match(keyProblem("z".repeat(64)) ?? "", /64 characters; at most 63/);
    assert.match(keyProblem("/team") ?? "", /prefix '' must be a DNS subdomain/);
    assert.match(keyProblem("Example.com/team") ?? "", /DNS subdomain/);
    assert.match(keyProblem("a/b/c") ?? "", /DNS subdomain/);
    assert.match(keyProblem("example.com/") ?? "", /name is empty/);
    assert.match(valueProblem("q".repeat(64)) ?? "", /at most 63/);
    assert.match(valueProblem("a b") ?? "", /letters, digits/);
    assert.match(valueProblem("-a") ?? "", /starting and ending/);
    assert.match(valueProblem("é") ?? "", /letters, digits/);
  });

  it("checks a set of labels whole, naming the first bad one, and bounds how many", () => {
    assert.deepEqual(checkLabels({ team: "api", tier: "" }), { team: "api", tier: "" });
    refuses(
      () => checkLabels({ team: "api", "bad key": "x" }),
      /^label key 'bad key' is not valid: /,
    );
    refuses(() => checkLabels({ team: "a\nb" }), /^label team=a\\nb is not valid: /);
    const many = Object.fromEntries(
      Array.from({ length: MAX_LABELS + 1 }, (_, i) => [`k${i}`, "v"]),
    );
    refuses(
      () => checkLabels(many),
      new RegExp(`${MAX_LABELS + 1} labels; a session has at most ${MAX_LABELS}`),
    );
  });
});

describe("label selectors", () => {
  const labels = { team: "api", tier: "web", urgent: "" };

  it("reads equality, inequality, existence and absence, comma-separated", () => {
    assert.deepEqual(parseSelector(""), []);
    assert.deepEqual(parseSelector(" team = api , tier!=db,urgent, !draft,team==api"), [
      { key: "team", op: "=", value: "api" },
      { key: "tier", op: "!=", value: "db" },
      { key: "urgent", op: "exists" },
      { key: "draft", op: "!exists" },
      { key: "team", op: "=", value: "api" },
    ]);
    assert.deepEqual(parseSelector("urgent="), [{ key: "urgent", op: "=", value: "" }]);
  });

  it("every requirement must hold", () => {
    const selects = (selector: string) => matches(labels, parseSelector(selector));
    assert.equal(selects(""), true);
    assert.equal(selects("team=api"), true);
    assert.equal(selects("team=api,tier=web"), true);
    assert.equal(selects("team=api,tier=db"), false);
    assert.equal(selects("team!=db"), true);
    assert.equal(selects("owner!=me"), true, "a label it lacks is not equal to anything");
    assert.equal(selects("team!=api"), false);
    assert.equal(selects("urgent"), true);
    assert.equal(selects("urgent="), true);
    assert.equal(selects("owner"), false);
    assert.equal(selects("!owner"), true);
    assert.equal(selects("!team"), false);
    assert.equal(selects("team=API"), false, "values are case-sensitive");
  });

  it("refuses what it cannot read, in one line saying what it takes", () => {
    refuses(
      () => parseSelector("team in (a,b)"),
      /cannot read 'team in \(a'; use key=value, key!=value, key or !key/,
    );
    refuses(() => parseSelector("team=a,,tier=b"), /cannot read ''/);
    refuses(() => parseSelector("!team=a"), /'!' goes only before a key alone/);
    refuses(() => parseSelector("bad key=a"), /cannot read/);
    refuses(() => parseSelector("-team=a"), /key '-team' is not valid/);
    refuses(() => parseSelector("team=a b"), /cannot read/);
    refuses(
      () => parseSelector(`team=${"v".repeat(64)}`),
      /value '.*' is not valid: it is 64 characters/,
    );
  });
});
