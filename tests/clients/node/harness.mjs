// What every Node client program shares: the mock's admin API, the list of cases, the results file.
// The Node counterpart of ../harness.py, with the same command line and the same results format:
//   node client_x.mjs MOCK_ROOT RESULTS_JSON [FEATURE ...]
// Every case runs against a reset mock, so one case's rules and journal never leak into the next.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const API_KEY = "sk-chatdouble-clients";
export const MODEL = "gpt-4o-mini";

export class Mock {
  constructor(root) {
    this.root = root.replace(/\/$/, "");
    this.baseURL = `${this.root}/v1`;
  }

  async call(method, path, body) {
    const response = await fetch(`${this.root}/_mock/${path}`, {
      method,
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`admin ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  // Script the next replies (first match wins); the rule syntax is the README's.
  rules(...rules) {
    return this.call("POST", "rules", { rules });
  }

  reset() {
    return this.call("POST", "reset");
  }

  async completions() {
    const { data } = await this.call("GET", "journal");
    return data.filter((entry) => entry.path.endsWith("/chat/completions"));
  }

  async statuses() {
    return (await this.completions()).map((entry) => entry.status);
  }
}

const cases = [];

// Register a case; `xfail` names whose fault a known failure is. The case still runs, so a fix shows up
// as an unexpected pass and the mark gets removed.
export function test(feature, run, { xfail = null } = {}) {
  cases.push({ feature, run, xfail });
}

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

function describe(error) {
  const text = `${error?.stack ?? error}${error?.cause ? `\ncause: ${error.cause}` : ""}`;
  return text.slice(-3000);
}

function version(pkg) {
  const here = dirname(fileURLToPath(import.meta.url));
  return JSON.parse(readFileSync(join(here, "node_modules", pkg, "package.json"), "utf8")).version;
}

export async function main(library, pkg) {
  const [root, resultsPath, ...only] = process.argv.slice(2);
  const mock = new Mock(root);
  const results = [];
  for (const entry of cases) {
    if (only.length && !only.includes(entry.feature)) continue;
    await mock.reset();
    let outcome;
    let detail = "";
    try {
      await entry.run(mock);
      outcome = entry.xfail ? "xpassed" : "passed";
    } catch (error) {
      outcome = entry.xfail ? "xfailed" : "failed";
      detail = describe(error);
    }
    results.push({ feature: entry.feature, outcome, reason: entry.xfail ?? "", detail });
    console.log(`${outcome.padEnd(8)} ${library} ${entry.feature}`);
    if (detail) console.log(`    ${detail.replaceAll("\n", "\n    ")}`);
  }
  const report = { library, distribution: pkg, version: version(pkg), runtime: `Node ${process.versions.node}`, results };
  writeFileSync(resultsPath, JSON.stringify(report, null, 2));
}
