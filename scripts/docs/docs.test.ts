import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AgentBarStatus, ALL_AGENT_BAR_STATUSES, ERROR_CODES } from '../../packages/protocol/src/index.js';
import { COMMAND_TYPES } from '../../packages/server/src/domain/agent-machine.js';
import { CALL_EVENTS, CALL_PHASES, type CallEvent } from '../../packages/server/src/domain/call-machine.js';
import {
  CALL_AGENT_EFFECTS,
  GENERATED_DOCS,
  renderAgentStatesDoc,
  renderCallStatesDoc,
  renderErrorsDoc,
} from './render.js';

const root = new URL('../../', import.meta.url);

function committed(path: string): string {
  try {
    return readFileSync(new URL(path, root), 'utf8');
  } catch {
    throw new Error(`${path} is missing: run \`npm run docs:gen\` and commit it`);
  }
}

describe('the committed docs match their tables', () => {
  it.each(GENERATED_DOCS)('$path is up to date', ({ path, render }) => {
    expect(committed(path), `${path} is stale: run \`npm run docs:gen\` and commit the result`).toBe(render());
  });

  it('every error code is in docs/errors.md', () => {
    const doc = committed('docs/errors.md');
    for (const code of ERROR_CODES) expect(doc, `${code} missing: run \`npm run docs:gen\``).toContain(`| \`${code}\``);
  });

  it('every agent status and command is in docs/agent-states.md', () => {
    const doc = committed('docs/agent-states.md');
    for (const status of ALL_AGENT_BAR_STATUSES) {
      const name = AgentBarStatus[status];
      expect(doc, `${name} missing: run \`npm run docs:gen\``).toContain(`| ${status} | \`${name}\` |`);
    }
    for (const type of COMMAND_TYPES) expect(doc, `${type} missing`).toContain(`| \`${type}\` |`);
  });

  it('every call phase and event is in docs/call-states.md', () => {
    const doc = committed('docs/call-states.md');
    for (const phase of CALL_PHASES) expect(doc, `${phase} missing`).toContain(`| \`${phase}\` |`);
    for (const event of CALL_EVENTS) expect(doc, `${event} missing`).toContain(`| \`${event}\` |`);
  });

  it('names in the agents table of docs/call-states.md exactly the call events the call service applies', () => {
    // The table is written by hand: reading the service's `move(call, …)` and `callTransition(call.phase, …)`
    // catches an event it starts or stops applying without the table following. The service is split over the
    // files of its folder, so all of them are read.
    const folder = new URL('packages/server/src/services/calls/', root);
    const source = readdirSync(folder)
      .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
      .map((name) => readFileSync(new URL(name, folder), 'utf8'))
      .join('\n');
    const known: ReadonlySet<string> = new Set(CALL_EVENTS);
    const applied = new Set<string>();
    for (const [, args = ''] of source.matchAll(/(?:\.move\(call, |callTransition\(call\.phase, )([^)]*)\)/g)) {
      for (const [, word = ''] of args.matchAll(/'(\w+)'/g)) if (known.has(word)) applied.add(word);
    }
    const named = new Set<CallEvent>(CALL_AGENT_EFFECTS.flatMap((row) => row.events));
    expect([...named].sort()).toEqual([...applied].sort());
  });
});

describe('the renderers', () => {
  it('are deterministic', () => {
    expect(renderAgentStatesDoc()).toBe(renderAgentStatesDoc());
    expect(renderCallStatesDoc()).toBe(renderCallStatesDoc());
    expect(renderErrorsDoc()).toBe(renderErrorsDoc());
  });

  it.each([
    ['agent', renderAgentStatesDoc],
    ['call', renderCallStatesDoc],
  ])('draw only valid Mermaid state ids, one edge per line (%s states)', (_name, render) => {
    const doc = render();
    const diagram = doc.slice(doc.indexOf('```mermaid\n') + '```mermaid\n'.length, doc.lastIndexOf('```'));
    const lines = diagram.trim().split('\n');
    expect(lines[0]).toBe('stateDiagram-v2');
    const edges = lines.filter((l) => l.includes('-->') && !l.includes('[*]'));
    expect(edges.length).toBeGreaterThan(0);
    for (const edge of edges) expect(edge).toMatch(/^ {2}[A-Za-z][A-Za-z0-9]* --> [A-Za-z][A-Za-z0-9]*: [a-zA-Z]+$/);
  });

  it('keep every table row on one line with the header column count', () => {
    for (const doc of [renderAgentStatesDoc(), renderCallStatesDoc(), renderErrorsDoc()]) {
      const blocks = doc.split('\n\n').filter((b) => b.startsWith('| '));
      expect(blocks.length).toBeGreaterThan(0);
      for (const block of blocks) {
        const [header = '', ...rows] = block.trimEnd().split('\n');
        // Escaped pipes (\|) are content, not separators.
        const columns = (row: string) => row.split(/(?<!\\)\|/).length;
        for (const row of rows) expect(columns(row), row).toBe(columns(header));
      }
    }
  });
});
