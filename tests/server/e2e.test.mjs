// End to end: the real `sambay serve` (tiny model folder, dummy weights, CPU) driven by the
// official OpenAI client and by plain fetch for what the client cannot send.
// Environment: SAMBAY_BINARY (the sambay executable), SAMBAY_SOURCE_DIR (the source tree).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

const BINARY = process.env.SAMBAY_BINARY;
const SOURCE_DIR = process.env.SAMBAY_SOURCE_DIR ?? path.resolve(import.meta.dirname, '../..');
const MODEL_DIR = path.join(SOURCE_DIR, 'models/tiny-flash');
const MODEL = 'tiny-flash';
const CONTEXT = 1024;
const API_KEY = 'sk-test-key';
const BODY_LIMIT = 65536;

// Starts `sambay serve` on a free loopback port; resolves once /health answers.
async function startServer(extraArgs = [], modelDir = MODEL_DIR) {
  assert.ok(BINARY, 'SAMBAY_BINARY must name the sambay executable');
  const args = ['serve', '--model', modelDir, '--dummy', '--device', 'cpu', '--threads', '1', '--port', '0',
                '--ctx', String(CONTEXT), '--max-seqs', '8', ...extraArgs];
  const child = spawn(BINARY, args, {
    stdio: ['ignore', 'inherit', 'pipe'],
    env: { ...process.env, OMP_WAIT_POLICY: 'passive' },
  });
  let log = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30000);
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const m = log.match(/on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then(({ code }) => reject(new Error(`server exited (${code}) before listening:\n${log}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch (e) {
      if (i > 100) throw e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, base, exited, log: () => log };
}

async function stopServer(server) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited;
  server.child.kill('SIGTERM');
  return withTimeout(server.exited, 20000, 'server did not exit after SIGTERM');
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(what)), ms); }),
  ]);
}

function client(server, apiKey = 'unused') {
  return new OpenAI({ baseURL: `${server.base}/v1`, apiKey, maxRetries: 0, timeout: 60000 });
}

// The numeric samples of a Prometheus exposition, by name with labels.
async function metrics(server, headers = {}) {
  const text = await (await fetch(`${server.base}/metrics`, { headers })).text();
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

async function postRaw(server, route, body, headers = {}) {
  const res = await fetch(`${server.base}${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text };
}

const user = (content) => [{ role: 'user', content }];

let server;   // the main server
let guarded;  // with --api-key and a small body limit
let api;

before(async () => {
  [server, guarded] = await Promise.all([
    startServer(),
    startServer(['--api-key', API_KEY, '--max-body-bytes', String(BODY_LIMIT), '--served-model-name', 'guarded']),
  ]);
  api = client(server);
});

after(async () => {
  for (const s of [server, guarded]) if (s) await stopServer(s).catch(() => s.child.kill('SIGKILL'));
});

describe('models and health', () => {
  test('lists the served model', async () => {
    const list = await api.models.list();
    assert.deepEqual(list.data.map((m) => m.id), [MODEL]);
    assert.equal(list.data[0].object, 'model');
  });

  test('health and metrics answer', async () => {
    const health = await fetch(`${server.base}/health`);
    assert.equal(health.status, 200);
    const m = await metrics(server);
    assert.equal(m['sambay_cache_slots_total'], 8);
    assert.ok(m['sambay_cache_pages_total'] > 0);
  });
});

describe('chat completions', () => {
  test('non-streaming: content, usage and schema', async () => {
    const r = await api.chat.completions.create({
      model: MODEL, messages: user('Hello there'), max_tokens: 8, seed: 7, temperature: 1, ignore_eos: true,
    });
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.model, MODEL);
    assert.equal(r.choices.length, 1);
    const c = r.choices[0];
    assert.equal(c.finish_reason, 'length');
    assert.equal(c.message.role, 'assistant');
    assert.equal(typeof c.message.content, 'string');
    assert.ok(c.message.content.length > 0);
    assert.ok('reasoning_content' in c.message, 'reasoning_content is part of the message');
    assert.equal(c.logprobs, null);
    assert.equal(r.usage.completion_tokens, 8);
    // "<|user|>Hello there<|end|><|assistant|>": role markers plus the text's tokens.
    assert.ok(r.usage.prompt_tokens >= 5 && r.usage.prompt_tokens <= 8, `prompt_tokens ${r.usage.prompt_tokens}`);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 8);
  });

  test('max_completion_tokens is honoured', async () => {
    const r = await api.chat.completions.create({
      model: MODEL, messages: user('Hi'), max_completion_tokens: 3, ignore_eos: true,
    });
    assert.equal(r.usage.completion_tokens, 3);
  });

  test('same seed gives the same text; different seeds differ; temperature 0 is deterministic', async () => {
    const ask = (extra) => api.chat.completions.create({
      model: MODEL, messages: user('Tell me a story'), max_tokens: 12, ignore_eos: true, temperature: 1, ...extra,
    }).then((r) => r.choices[0].message.content);
    const [a, b, c] = await Promise.all([ask({ seed: 42 }), ask({ seed: 42 }), ask({ seed: 43 })]);
    assert.equal(a, b);
    assert.notEqual(a, c);
    const [g1, g2] = await Promise.all([ask({ temperature: 0 }), ask({ temperature: 0, seed: 5 })]);
    assert.equal(g1, g2);
  });

  test('streaming matches the non-streamed text and reports usage', async () => {
    const body = {
      model: MODEL, messages: user('Stream this'), max_tokens: 10, seed: 3, temperature: 1, ignore_eos: true,
    };
    const whole = await api.chat.completions.create(body);
    const stream = await api.chat.completions.create({
      ...body, stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let role = null;
    let finish = null;
    let usage = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      if (chunk.choices.length === 0) continue;
      const d = chunk.choices[0].delta;
      if (d.role) role = d.role;
      text += (d.content ?? '') + (d.reasoning_content ?? '');
      if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
    }
    assert.equal(role, 'assistant');
    assert.equal(finish, 'length');
    assert.ok(chunks >= 3);
    assert.equal(text, whole.choices[0].message.content);
    assert.deepEqual(usage, whole.usage);
  });

  test('a stop string ends the text before it', async () => {
    const body = { model: MODEL, messages: user('Count'), max_tokens: 24, temperature: 0, ignore_eos: true };
    const full = (await api.chat.completions.create(body)).choices[0].message.content;
    assert.ok(full.length >= 8, `need some text to cut: ${JSON.stringify(full)}`);
    const stop = full.slice(4, 7);
    const expected = full.slice(0, full.indexOf(stop));
    const r = await api.chat.completions.create({ ...body, stop: [stop, 'never-produced-xyz'] });
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal(r.choices[0].message.content, expected);
    assert.ok(r.usage.completion_tokens < 24);
    // The same when streamed.
    const stream = await api.chat.completions.create({ ...body, stop, stream: true });
    let text = '';
    let finish = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, expected);
    assert.equal(finish, 'stop');
  });

  test('logprobs: one entry per token, alternatives sorted, bytes spell the content', async () => {
    const r = await api.chat.completions.create({
      model: MODEL, messages: user('Hi'), max_tokens: 6, temperature: 0, ignore_eos: true,
      logprobs: true, top_logprobs: 3,
    });
    const content = r.choices[0].logprobs.content;
    assert.equal(content.length, r.usage.completion_tokens);
    const bytes = [];
    for (const e of content) {
      assert.equal(e.top_logprobs.length, 3);
      assert.ok(e.logprob <= 0);
      for (let i = 1; i < 3; i++) assert.ok(e.top_logprobs[i - 1].logprob >= e.top_logprobs[i].logprob);
      // Greedy: the chosen token is the most likely one.
      assert.equal(e.token, e.top_logprobs[0].token);
      assert.ok(Math.abs(e.logprob - e.top_logprobs[0].logprob) < 1e-5);
      bytes.push(...e.bytes);
    }
    assert.equal(Buffer.from(bytes).toString('utf8'), r.choices[0].message.content);
  });

  test('role tokens in content are plain text', async () => {
    const plain = await api.chat.completions.create({ model: MODEL, messages: user('<|user|>'), max_tokens: 1 });
    const word = await api.chat.completions.create({ model: MODEL, messages: user('x'), max_tokens: 1 });
    assert.ok(plain.usage.prompt_tokens > word.usage.prompt_tokens);
  });
});

describe('completions', () => {
  test('text prompt, non-streaming and streaming agree', async () => {
    const body = {
      model: MODEL, prompt: 'Once upon a time', max_tokens: 9, seed: 11, temperature: 1, ignore_eos: true,
    };
    const r = await api.completions.create(body);
    assert.equal(r.object, 'text_completion');
    assert.match(r.id, /^cmpl-/);
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.equal(r.usage.completion_tokens, 9);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 9);
    const stream = await api.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage = null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      text += chunk.choices[0]?.text ?? '';
    }
    assert.equal(text, r.choices[0].text);
    assert.deepEqual(usage, r.usage);
  });

  test('token-id prompt and logprobs', async () => {
    const r = await api.completions.create({
      model: MODEL, prompt: [9906, 11, 1917], max_tokens: 5, temperature: 0, ignore_eos: true, logprobs: 2,
    });
    assert.equal(r.usage.prompt_tokens, 3);
    const lp = r.choices[0].logprobs;
    assert.equal(lp.tokens.length, 5);
    assert.equal(lp.token_logprobs.length, 5);
    assert.equal(lp.text_offset[0], 0);
    for (const top of lp.top_logprobs) assert.ok(Object.keys(top).length >= 1 && Object.keys(top).length <= 2);
    // A one-element array of strings is one prompt.
    const one = await api.completions.create({ model: MODEL, prompt: ['Hello'], max_tokens: 2, ignore_eos: true });
    assert.equal(one.usage.completion_tokens, 2);
  });

  test('min_tokens is accepted up to max_tokens', async () => {
    // min_tokens masks end-of-sequence ids (vLLM's meaning); stop strings still apply.
    const r = await api.completions.create({ model: MODEL, prompt: 'a', max_tokens: 5, min_tokens: 5 });
    assert.equal(r.usage.completion_tokens, 5);
    await assert.rejects(api.completions.create({ model: MODEL, prompt: 'a', max_tokens: 2, min_tokens: 3 }),
                         (e) => e.status === 400 && e.param === 'min_tokens');
  });
});

describe('errors', () => {
  const expectApiError = async (promise, status, check = () => {}) => {
    await assert.rejects(promise, (e) => {
      assert.ok(e instanceof OpenAI.APIError, `expected an APIError, got ${e}`);
      assert.equal(e.status, status, e.message);
      check(e);
      return true;
    });
  };

  test('unknown model: 404 model_not_found', async () => {
    await expectApiError(api.chat.completions.create({ model: 'gpt-4o', messages: user('x') }), 404, (e) => {
      assert.equal(e.code, 'model_not_found');
      assert.equal(e.param, 'model');
    });
  });

  test('wrong types and ranges name the field', async () => {
    const cases = [
      [{ temperature: 5 }, 'temperature'],
      [{ temperature: 'hot' }, 'temperature'],
      [{ top_p: 0 }, 'top_p'],
      [{ max_tokens: 0 }, 'max_tokens'],
      [{ max_tokens: 2.5 }, 'max_tokens'],
      [{ stop: [1] }, 'stop[0]'],
      [{ n: 2 }, 'n'],
      [{ logprobs: true, top_logprobs: 50 }, 'top_logprobs'],
      [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
      [{ messages: [] }, 'messages'],
    ];
    for (const [extra, param] of cases) {
      await expectApiError(api.chat.completions.create({ model: MODEL, messages: user('x'), ...extra }), 400, (e) => {
        assert.equal(e.param, param, JSON.stringify(extra));
        assert.equal(e.type, 'invalid_request_error');
      });
    }
    await expectApiError(api.completions.create({ model: MODEL, prompt: 7 }), 400,
                         (e) => assert.equal(e.param, 'prompt'));
    await expectApiError(api.completions.create({ model: MODEL, prompt: [1, 300000] }), 400,
                         (e) => assert.equal(e.param, 'prompt'));
  });

  test('prompt plus max_tokens beyond the context: 400', async () => {
    await expectApiError(api.completions.create({ model: MODEL, prompt: 'hello', max_tokens: CONTEXT }), 400, (e) => {
      assert.equal(e.code, 'context_length_exceeded');
      assert.equal(e.param, 'max_tokens');
    });
    const long = Array.from({ length: CONTEXT + 10 }, () => 100);
    await expectApiError(api.completions.create({ model: MODEL, prompt: long, max_tokens: 1 }), 400,
                         (e) => assert.equal(e.code, 'context_length_exceeded'));
  });

  test('malformed JSON, invalid UTF-8, wrong body shape: 400 with an error object', async () => {
    for (const body of ['{"model": ', 'not json', '[1, 2]',
                        Buffer.from('{"prompt": "\xff"}', 'latin1')]) {
      const r = await postRaw(server, '/v1/completions', body);
      assert.equal(r.status, 400, r.text);
      assert.equal(typeof r.json.error.message, 'string');
      assert.equal(r.json.error.type, 'invalid_request_error');
    }
  });

  test('unknown route: 404 error object', async () => {
    const r = await postRaw(server, '/v1/embeddings', '{}');
    assert.equal(r.status, 404);
    assert.ok(r.json.error.message);
  });

  test('the server keeps answering after bad requests', async () => {
    const r = await api.chat.completions.create({ model: MODEL, messages: user('still there?'), max_tokens: 2 });
    assert.ok(r.usage.completion_tokens >= 1);
  });
});

describe('API key and body limit', () => {
  test('missing or wrong key: 401; right key: served; /health open', async () => {
    const noKey = await postRaw(guarded, '/v1/chat/completions', JSON.stringify({ messages: user('x') }));
    assert.equal(noKey.status, 401);
    assert.equal(noKey.json.error.code, 'missing_api_key');
    await assert.rejects(client(guarded, 'sk-wrong').chat.completions.create({ model: 'guarded', messages: user('x') }),
                         (e) => e instanceof OpenAI.AuthenticationError && e.code === 'invalid_api_key');
    await assert.rejects(client(guarded, 'sk-wrong').models.list(), (e) => e.status === 401);
    const ok = await client(guarded, API_KEY).chat.completions.create({
      model: 'guarded', messages: user('x'), max_tokens: 2, ignore_eos: true,
    });
    assert.equal(ok.usage.completion_tokens, 2);
    assert.equal(ok.model, 'guarded');
    assert.equal((await fetch(`${guarded.base}/health`)).status, 200);
    assert.equal((await fetch(`${guarded.base}/metrics`)).status, 401);
    assert.equal((await fetch(`${guarded.base}/metrics`, { headers: { Authorization: `Bearer ${API_KEY}` } })).status,
                 200);
  });

  test('a body over the limit: 413', async () => {
    const body = JSON.stringify({ model: 'guarded', prompt: 'x'.repeat(BODY_LIMIT * 2) });
    const r = await postRaw(guarded, '/v1/completions', body, { Authorization: `Bearer ${API_KEY}` });
    assert.equal(r.status, 413, r.text);
    assert.ok(r.json.error.message);
    // Just under the limit is parsed (and fails on its content, not its size).
    const small = await postRaw(guarded, '/v1/completions', JSON.stringify({ model: 'guarded', prompt: 3 }),
                                { Authorization: `Bearer ${API_KEY}` });
    assert.equal(small.status, 400);
  });
});

describe('load', () => {
  test('32 concurrent clients, some cancelled mid-stream: all end cleanly, the cache empties', async () => {
    const before = await metrics(server);
    const jobs = [];
    for (let i = 0; i < 32; i++) {
      const controller = new AbortController();
      const kind = i % 4;  // streaming chat, chat, streaming completion, completion
      const abortMidStream = i % 8 === 0;   // after the first chunk
      const abortWhole = i % 8 === 5;       // a non-streaming request, shortly after it was sent
      const maxTokens = abortMidStream || abortWhole ? 400 : 12 + (i % 5);
      const common = { model: MODEL, max_tokens: maxTokens, ignore_eos: true, seed: i, temperature: 1 };
      const job = (async () => {
        if (kind === 0 || kind === 2) {
          const stream = kind === 0
            ? await api.chat.completions.create({ ...common, messages: user(`client ${i}`), stream: true },
                                                { signal: controller.signal })
            : await api.completions.create({ ...common, prompt: `client ${i}`, stream: true },
                                           { signal: controller.signal });
          let chunks = 0;
          let finish = null;
          for await (const chunk of stream) {
            chunks++;
            if (abortMidStream && chunks === 2) controller.abort();
            finish = chunk.choices[0]?.finish_reason ?? finish;
          }
          return { finish, chunks };
        }
        if (abortWhole) setTimeout(() => controller.abort(), 150);
        const r = kind === 1
          ? await api.chat.completions.create({ ...common, messages: user(`client ${i}`) },
                                              { signal: controller.signal })
          : await api.completions.create({ ...common, prompt: `client ${i}` }, { signal: controller.signal });
        assert.equal(r.usage.completion_tokens, maxTokens);
        return { finish: r.choices[0].finish_reason };
      })();
      jobs.push({ job, maxTokens, aborted: (abortMidStream && kind % 2 === 0) || (abortWhole && kind % 2 === 1) });
    }
    const results = await withTimeout(Promise.allSettled(jobs.map((j) => j.job)), 90000, 'load did not finish');
    let cancelled = 0;
    results.forEach((r, i) => {
      if (jobs[i].aborted) {
        // An aborted request either ended with the abort or (rarely) finished first.
        if (r.status === 'rejected') {
          assert.ok(r.reason instanceof OpenAI.APIUserAbortError || r.reason?.name === 'AbortError',
                    `client ${i}: ${r.reason}`);
          cancelled++;
        }
      } else {
        assert.equal(r.status, 'fulfilled', `client ${i}: ${r.reason}`);
        assert.equal(r.value.finish, 'length', `client ${i}`);
      }
    });
    assert.ok(cancelled >= 4, `only ${cancelled} requests were cancelled`);

    // The engine lets go of every cancelled request: nothing running or waiting, the cache empty.
    let m;
    for (let i = 0; i < 100; i++) {
      m = await metrics(server);
      const idle = ['sambay_requests_running', 'sambay_requests_waiting', 'sambay_cache_slots_used',
                    'sambay_cache_pages_used', 'sambay_http_streams_open'].every((k) => m[k] === 0);
      if (idle) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(m['sambay_requests_running'], 0);
    assert.equal(m['sambay_requests_waiting'], 0);
    assert.equal(m['sambay_cache_slots_used'], 0);
    assert.equal(m['sambay_cache_pages_used'], 0);
    assert.equal(m['sambay_http_streams_open'], 0);
    const cancelledCount = (x) => x['sambay_requests_total{endpoint="chat",outcome="cancelled"}'] +
                                  x['sambay_requests_total{endpoint="completions",outcome="cancelled"}'];
    assert.ok(cancelledCount(m) - cancelledCount(before) >= cancelled,
              `server counted ${cancelledCount(m) - cancelledCount(before)} cancellations, clients ${cancelled}`);
    // The aborted requests (400 tokens asked, streaming and not) stopped early: beyond what the
    // others asked for, few tokens were generated.
    const generated = m['sambay_generation_tokens_total'] - before['sambay_generation_tokens_total'];
    const completed = jobs.filter((j) => !j.aborted).reduce((sum, j) => sum + j.maxTokens, 0);
    const aborted = jobs.filter((j) => j.aborted).length;
    assert.ok(generated - completed < aborted * 100, `aborted requests generated ${generated - completed} tokens`);

    const r = await api.chat.completions.create({ model: MODEL, messages: user('after the load'), max_tokens: 3,
                                                  ignore_eos: true });
    assert.equal(r.usage.completion_tokens, 3);
  });
});

// A Phi-4-mini (Phi3ForCausalLM) folder: the golden switch case's config (LongRoPE switching from
// the short to the long factors past 48 positions) with the real vocabulary, beside the tiny
// folder's tokenizer and chat template.
describe('a Phi-3 model folder', () => {
  let phi3;
  let dir;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sambay-phi3-'));
    const config = JSON.parse(fs.readFileSync(
      path.join(SOURCE_DIR, 'tests/data/golden-phi3/switch-l4-h192-o48/config.json'), 'utf8'));
    Object.assign(config, { vocab_size: 200064, bos_token_id: 199999, eos_token_id: 199999, pad_token_id: 199999 });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json',
                     'generation_config.json'])
      fs.copyFileSync(path.join(MODEL_DIR, f), path.join(dir, f));
    phi3 = await startServer(['--served-model-name', 'phi3'], dir);
  });
  after(async () => {
    if (phi3) await stopServer(phi3).catch(() => phi3.child.kill('SIGKILL'));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('generations past the switch point are re-run once each on the long factors and complete', async () => {
    const api3 = client(phi3);
    const r = await api3.chat.completions.create({
      model: 'phi3', messages: user('Hello'), max_tokens: 60, ignore_eos: true, temperature: 0,
    });
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.equal(r.usage.completion_tokens, 60);
    assert.ok(r.usage.prompt_tokens < 48, `prompt_tokens ${r.usage.prompt_tokens}`);
    const again = await api3.chat.completions.create({
      model: 'phi3', messages: user('Hello'), max_tokens: 60, ignore_eos: true, temperature: 0,
    });
    assert.equal(again.choices[0].message.content, r.choices[0].message.content);
    const m = await metrics(phi3);
    assert.equal(m['sambay_recomputes_total'], 2);
    assert.equal(m['sambay_cache_pages_used'], 0);
  });
});

describe('shutdown', () => {
  test('SIGTERM: the stream in flight finishes, then the process exits 0', async () => {
    const stream = await api.chat.completions.create({
      model: MODEL, messages: user('last words'), max_tokens: 40, ignore_eos: true, stream: true,
      stream_options: { include_usage: true },
    });
    let chunks = 0;
    let usage = null;
    let finish = null;
    for await (const chunk of stream) {
      if (++chunks === 2) server.child.kill('SIGTERM');
      if (chunk.usage) usage = chunk.usage;
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'length');
    assert.equal(usage.completion_tokens, 40);
    const { code, signal } = await withTimeout(server.exited, 20000, 'no exit after SIGTERM');
    assert.equal(signal, null);
    assert.equal(code, 0, server.log());
    assert.doesNotMatch(server.log(), /runtime error|Sanitizer/);
    await assert.rejects(fetch(`${server.base}/health`));
  });

  test('an idle server exits 0 on SIGTERM too', async () => {
    const { code, signal } = await stopServer(guarded);
    assert.equal(signal, null);
    assert.equal(code, 0, guarded.log());
    assert.doesNotMatch(guarded.log(), /runtime error|Sanitizer/);
  });
});
