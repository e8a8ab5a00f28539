#!/usr/bin/env node
// calculate(i, j, n = 10, delay = 0) served to pprocd as a persistent
// command (mode = "persistent" in pprocd.toml): one JSON request per line on
// stdin, {"id": N, "args": {"i": 1, "j": 2, ...}}, one JSON response per line
// on stdout, {"id": N, "result": R} or {"id": N, "error": "message"}.
// stdout carries responses only: logs go to stderr, which pprocd returns to
// the caller as the item's logs.
'use strict';

const readline = require('readline');

// Returns i * n + j after sleeping delay seconds (the pprocess tutorial's function).
async function calculate({ i, j, n = 10, delay = 0 }) {
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay * 1000));
  return i * n + j;
}

// The parameters in order, for arguments given as a list.
const PARAMS = ['i', 'j', 'n', 'delay'];

function toObject(args) {
  if (Array.isArray(args)) {
    return Object.fromEntries(args.map((value, index) => [PARAMS[index], value]));
  }
  return args !== null && typeof args === 'object' ? args : { [PARAMS[0]]: args };
}

async function answer(line) {
  const request = JSON.parse(line);
  try {
    const result = await calculate(toObject(request.args));
    return { id: request.id, result };
  } catch (error) {
    console.error(error && error.stack ? error.stack : String(error));
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { id: request.id, error: message };
  }
}

// console.log would write to stdout: keep it off the responses.
console.log = console.error;

// One request at a time, in order (pprocd sends the next one after the answer).
let queue = Promise.resolve();
readline.createInterface({ input: process.stdin, terminal: false }).on('line', (line) => {
  if (line.trim() === '') return;
  queue = queue
    .then(() => answer(line))
    .catch((error) => ({ id: null, error: `malformed request: ${error.message}` }))
    .then((response) => process.stdout.write(JSON.stringify(response) + '\n'));
});
