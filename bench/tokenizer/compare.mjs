// Encodes the benchmark text with OpenAI's tiktoken (o200k_base + the Phi-4 added tokens as
// specials) and Hugging Face tokenizers (the same tokenizer.json), prints MB/s, and checks the ids
// against sambay's (written by tokenizer_bench --write-text/--write-ids) and against each other.
//
//   tokenizer_bench --write-text /tmp/tok.txt --write-ids /tmp/tok.ids
//   node compare.mjs --text /tmp/tok.txt --ids /tmp/tok.ids --tokenizer ../../models/tiny-flash/tokenizer.json
//
// tiktoken differs from HF (and sambay) by design in one place: it has no rstrip, so white space
// after a role token such as <|end|> is encoded instead of swallowed. The per-text check below
// reports which golden texts differ for that reason.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { get_encoding } from "tiktoken";
import { Tokenizer } from "tokenizers";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, v, i, a) => (v.startsWith("--") ? [...acc, [v.slice(2), a[i + 1]]] : acc), []),
);
const textPath = args.text ?? "/tmp/sambay-tokenizer-bench.txt";
const idsPath = args.ids ?? "/tmp/sambay-tokenizer-bench.ids";
const tokenizerPath = args.tokenizer ?? path.join(here, "../../models/tiny-flash/tokenizer.json");
const dataDir = args.data ?? path.join(here, "../../tests/data/tokenizer");
const repeat = Number(args.repeat ?? 3);

const text = fs.readFileSync(textPath, "utf8");
const mb = Buffer.byteLength(text, "utf8") / 1e6;
const ours = new Int32Array(fs.readFileSync(idsPath).buffer.slice(0));
console.log(`node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} CPUs; text ${mb.toFixed(2)} MB`);

// Best wall time of `repeat` runs, and the best process CPU time (all threads; on a shared
// machine it leaves out the time other programs held the cores).
function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
async function best(fn) {
  let bestS = Infinity;
  let bestCpu = Infinity;
  let out;
  for (let r = 0; r < repeat; ++r) {
    const t0 = process.hrtime.bigint();
    const c0 = cpuSeconds();
    out = await fn();
    bestCpu = Math.min(bestCpu, cpuSeconds() - c0);
    bestS = Math.min(bestS, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { out, s: bestS, cpu: bestCpu };
}
const rate = (r) => `${(mb / r.s).toFixed(1)} MB/s, ${(mb / r.cpu).toFixed(1)} MB per CPU-s`;
function sameIds(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; ++i) if (a[i] !== b[i]) return false;
  return true;
}
function firstDiff(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) ++i;
  return i;
}

// The Phi-4 added tokens, from tokenizer.json, as tiktoken specials.
const tokJson = JSON.parse(fs.readFileSync(tokenizerPath, "utf8"));
const extra = {};
for (const t of tokJson.added_tokens) extra[t.content] = t.id;

// tiktoken: load time, then encode with every special recognised (HF recognises added tokens too).
let t0 = process.hrtime.bigint();
const enc = get_encoding("o200k_base", extra);
console.log(`tiktoken ${JSON.parse(fs.readFileSync(path.join(here, "node_modules/tiktoken/package.json"))).version}: load ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`);
const tk = await best(() => enc.encode(text, "all"));
console.log(`  encode, 1 thread: ${rate(tk)} (${tk.out.length} tokens, best of ${repeat}: ${tk.s.toFixed(3)} s)`);

// HF tokenizers (Rust, via N-API): load time, encode of the whole text (one call, one thread),
// then encodeBatch over the documents (the Rust side spreads a batch over all cores).
t0 = process.hrtime.bigint();
const hf = Tokenizer.fromFile(tokenizerPath);
console.log(`tokenizers ${JSON.parse(fs.readFileSync(path.join(here, "node_modules/tokenizers/package.json"))).version}: load ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`);
const hfOne = await best(async () => (await hf.encode(text, null, { addSpecialTokens: false })).getIds());
console.log(`  encode, 1 thread: ${rate(hfOne)} (${hfOne.out.length} tokens, best of ${repeat}: ${hfOne.s.toFixed(3)} s)`);
const docs = text.split("\n\n").filter((d) => d.length > 0).map((d) => d + "\n\n");
const hfBatch = await best(async () => {
  const encs = await hf.encodeBatch(docs, { addSpecialTokens: false });
  let n = 0;
  for (const e of encs) n += e.getIds().length;
  return n;
});
console.log(`  encodeBatch over ${docs.length} documents (all threads): ${rate(hfBatch)} (${hfBatch.out} tokens)`);

// Parity on the whole text.
console.log(`ids: sambay ${ours.length}, HF ${hfOne.out.length}, tiktoken ${tk.out.length}`);
console.log(`  sambay == HF tokenizers: ${sameIds(ours, hfOne.out) ? "yes" : `NO (first difference at ${firstDiff(ours, hfOne.out)})`}`);
console.log(`  sambay == tiktoken: ${sameIds(ours, tk.out) ? "yes" : `no (first difference at ${firstDiff(ours, tk.out)}; see per-text check)`}`);

// Per golden text: which ones tiktoken encodes differently from HF, and HF vs the golden ids.
let hfGoldenMismatch = 0;
const tkDiffers = [];
for (const file of ["encode-golden.jsonl", "chat-golden.jsonl"]) {
  const lines = fs.readFileSync(path.join(dataDir, file), "utf8").split("\n").filter((l) => l.length > 0);
  for (const line of lines) {
    const row = JSON.parse(line);
    const t = row.text ?? row.prompt;
    const h = (await hf.encode(t, null, { addSpecialTokens: false })).getIds();
    if (!sameIds(h, row.ids)) ++hfGoldenMismatch;
    if (!sameIds(Array.from(enc.encode(t, "all")), row.ids)) tkDiffers.push(row.name);
  }
}
console.log(`golden texts: HF tokenizers differs from the golden ids on ${hfGoldenMismatch}; tiktoken on ${tkDiffers.length}: ${tkDiffers.join(", ")}`);
enc.free();
