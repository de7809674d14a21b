/**
 * @module features/interactive/page
 * The shell page: xterm.js (served by the worker from `@xterm/xterm`, no CDN) on the run's
 * websocket. Binary frames carry the terminal's bytes both ways; resizes go as text JSON.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** xterm.js and its css, read once from node_modules. */
export async function xtermAssets(): Promise<{ js: Buffer; css: Buffer }> {
  const [js, css] = await Promise.all([
    readFile(require.resolve('@xterm/xterm/lib/xterm.js')),
    readFile(require.resolve('@xterm/xterm/css/xterm.css')),
  ]);
  return { js, css };
}

export const shellPage = (title: string): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>${title.replace(/[<>&"]/g, '')}</title>
<link rel="stylesheet" href="xterm.css">
<style>html,body{margin:0;height:100%;background:#000}#t{height:100%}</style>
</head><body><div id="t"></div>
<script src="xterm.js"></script>
<script>
const term = new Terminal({ cursorBlink: true, fontSize: 14 });
term.open(document.getElementById('t'));
const fit = () => {
  const cell = term._core?._renderService?.dimensions?.css?.cell;
  if (!cell || !cell.width) return;
  term.resize(Math.max(20, Math.floor(innerWidth / cell.width)), Math.max(5, Math.floor(innerHeight / cell.height)));
};
const ws = new WebSocket(location.href.replace(/^http/, 'ws').replace(/shell\\.html.*$/, 'shell.sock'));
ws.binaryType = 'arraybuffer';
const enc = new TextEncoder();
ws.onopen = () => { fit(); ws.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows })); term.focus(); };
ws.onmessage = (e) => {
  if (typeof e.data === 'string') {
    const m = JSON.parse(e.data);
    if (m.type === 'exit') term.write('\\r\\n[shell exited with ' + m.exitCode + ']\\r\\n');
  } else term.write(new Uint8Array(e.data));
};
ws.onclose = () => term.write('\\r\\n[connection closed]\\r\\n');
term.onData((d) => ws.readyState === 1 && ws.send(enc.encode(d)));
term.onResize(({ cols, rows }) => ws.readyState === 1 && ws.send(JSON.stringify({ type: 'resize', cols, rows })));
addEventListener('resize', fit);
</script></body></html>
`;
