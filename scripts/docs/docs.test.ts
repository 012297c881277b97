import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AgentBarStatus, ALL_AGENT_BAR_STATUSES, ERROR_CODES } from '../../packages/protocol/src/index.js';
import { COMMAND_TYPES } from '../../packages/server/src/domain/agent-machine.js';
import { GENERATED_DOCS, renderAgentStatesDoc, renderErrorsDoc } from './render.js';

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
});

describe('the renderers', () => {
  it('are deterministic', () => {
    expect(renderAgentStatesDoc()).toBe(renderAgentStatesDoc());
    expect(renderErrorsDoc()).toBe(renderErrorsDoc());
  });

  it('draw only valid Mermaid state ids, one edge per line', () => {
    const doc = renderAgentStatesDoc();
    const diagram = doc.slice(doc.indexOf('```mermaid\n') + '```mermaid\n'.length, doc.lastIndexOf('```'));
    const lines = diagram.trim().split('\n');
    expect(lines[0]).toBe('stateDiagram-v2');
    const edges = lines.filter((l) => l.includes('-->') && !l.includes('[*]'));
    expect(edges.length).toBeGreaterThan(0);
    for (const edge of edges) expect(edge).toMatch(/^ {2}[A-Za-z][A-Za-z0-9]* --> [A-Za-z][A-Za-z0-9]*: [a-zA-Z]+$/);
  });

  it('keep every table row on one line with the header column count', () => {
    for (const doc of [renderAgentStatesDoc(), renderErrorsDoc()]) {
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
