// What the SDK scripts share: one "ok"/"not ok" line per check (each an
// assertion of the t/ suite that runs the script: t/lib/Airouter/Sdk.pm),
// the exit status that says whether any failed (done), and for the
// scripts made of scenarios (anthropic.mjs, responses.mjs, gemini.mjs,
// routing.mjs, sdk.mjs) a runner that takes those named on the command
// line.
//
//   node <script> ORIGIN [scenario,scenario,...]
//
// ORIGIN is airouter's http://127.0.0.1:PORT; each script adds the path its
// SDK wants (sdk.mjs, endpoints.mjs, forms.mjs and embeddings.mjs are given
// the base URL, ORIGIN/v1).  The client key is AIROUTER_SDK_KEY (default
// "client-key").

export const origin = process.argv[2];
export const key = process.env.AIROUTER_SDK_KEY ?? "client-key";

let failed = 0;

export function check(cond, name, detail) {
    console.log(`${cond ? "ok" : "not ok"} - ${name}`);
    if (!cond) {
        failed++;
        if (detail !== undefined) {
            console.log(`# ${JSON.stringify(detail)}`);
        }
    }
}

// Runs the scenarios asked for (all when none is named), in order.
export async function run(scenarios) {
    const wanted = process.argv[3] ? process.argv[3].split(",") : null;

    for (const [name, fn] of Object.entries(scenarios)) {
        if (wanted && !wanted.includes(name)) {
            continue;
        }
        try {
            await fn();
        } catch (e) {
            check(false, `${name}: ${e.constructor.name}: ${e.message}`);
        }
    }

    for (const name of wanted ?? []) {
        if (!(name in scenarios)) {
            check(false, `no scenario "${name}"`);
        }
    }

    done();
}

// Exits: 1 when a check failed.
export function done() {
    process.exit(failed ? 1 : 0);
}
