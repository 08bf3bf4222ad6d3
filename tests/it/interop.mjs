// The JavaScript side of tests/it/interop.rs: reads and writes peat export records
// ({"collection","id","automerge": base64 of a saved document}) with @automerge/automerge.
//
//   node interop.mjs NPM_PREFIX show          export lines on stdin -> {"id","doc"} lines
//   node interop.mjs NPM_PREFIX make COLL ID  a document made, then changed, as a record line
//
// NPM_PREFIX is where `npm install --prefix` put @automerge/automerge.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const [prefix, command, collection, id] = process.argv.slice(2);
const A = createRequire(`${prefix}/`)("@automerge/automerge");

const record = (doc) =>
  JSON.stringify({ collection, id, automerge: Buffer.from(A.save(doc)).toString("base64") });

if (command === "show") {
  for await (const line of createInterface({ input: process.stdin })) {
    const rec = JSON.parse(line);
    const doc = A.load(new Uint8Array(Buffer.from(rec.automerge, "base64")));
    console.log(JSON.stringify({ id: rec.id, doc: A.toJS(doc) }));
  }
} else if (command === "make") {
  let doc = A.from({ name: "Bravo", speed: 1, pos: { lat: 59.5, lon: 18 }, tags: ["js"] });
  doc = A.change(doc, (d) => {
    d.speed = 2;
    d.tags.push("changed");
    d.ready = true;
  });
  console.log(record(doc));
} else {
  console.error(`interop.mjs: unknown command ${command}`);
  process.exit(2);
}
