/**
 * The dial bar's stylesheet: every selector starts at `.ohd-root` (classes prefixed `ohd-`), so nothing leaks
 * into the host page, and the few properties a host's global CSS commonly sets on buttons and inputs are set
 * here explicitly. Injected once per document, at the first mount (importing the bundle touches no DOM).
 *
 * Colours are chosen for WCAG AA: body text #0f172a on white is 17:1, muted text #475569 is 7.6:1, white on
 * the green/red/blue buttons is 5.0:1 / 6.5:1 / 6.7:1, white on the header's #0f172a is 17:1.
 */
export const STYLE_ID = 'openhotline-dialbar-style';

export const CSS = `
.ohd-root{--ohd-fg:#0f172a;--ohd-muted:#475569;--ohd-line:#cbd5e1;--ohd-bg:#fff;--ohd-soft:#f1f5f9;--ohd-blue:#1d4ed8;--ohd-green:#15803d;--ohd-red:#b91c1c;--ohd-focus:#2563eb;
  box-sizing:border-box;width:340px;max-width:100%;color:var(--ohd-fg);background:var(--ohd-bg);border:1px solid var(--ohd-line);border-radius:12px;
  box-shadow:0 10px 30px rgba(15,23,42,.18),0 2px 6px rgba(15,23,42,.08);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"PingFang SC","Hiragino Sans GB","Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;
  text-align:left;overflow:hidden}
.ohd-root *,.ohd-root *::before,.ohd-root *::after{box-sizing:border-box}
.ohd-root.ohd-floating{position:fixed;z-index:9999;right:16px;bottom:16px}
.ohd-root.ohd-inline{position:relative}
.ohd-root :where(button,input,select){font:inherit;color:inherit;margin:0;letter-spacing:normal;text-transform:none}
.ohd-root :focus-visible{outline:3px solid var(--ohd-focus);outline-offset:2px}
.ohd-head{display:flex;align-items:center;gap:8px;padding:8px 10px;background:#0f172a;color:#fff}
.ohd-head :focus-visible{outline-color:#fff}
.ohd-grip{all:unset;cursor:grab;touch-action:none;display:inline-flex;align-items:center;justify-content:center;width:22px;height:28px;border-radius:6px;color:#cbd5e1}
.ohd-grip:hover{background:rgba(255,255,255,.12);color:#fff}
.ohd-grip:active{cursor:grabbing}
.ohd-grip:focus-visible{outline:3px solid #fff;outline-offset:1px}
.ohd-dot{width:10px;height:10px;border-radius:50%;flex:none;background:#94a3b8;box-shadow:0 0 0 3px rgba(255,255,255,.12)}
.ohd-dot[data-tone=ready]{background:#22c55e}.ohd-dot[data-tone=break]{background:#f59e0b}.ohd-dot[data-tone=call]{background:#60a5fa}
.ohd-dot[data-tone=ring]{background:#22c55e;animation:ohd-pulse 1s ease-in-out infinite}.ohd-dot[data-tone=acw]{background:#c084fc}
@keyframes ohd-pulse{50%{box-shadow:0 0 0 6px rgba(34,197,94,.35)}}
@media (prefers-reduced-motion:reduce){.ohd-dot[data-tone=ring]{animation:none}}
.ohd-status{font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;min-width:0}
.ohd-timer{font-variant-numeric:tabular-nums;color:#cbd5e1;white-space:nowrap}
.ohd-spacer{flex:1}
.ohd-agent{color:#cbd5e1;font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:90px}
.ohd-body{padding:12px;display:flex;flex-direction:column;gap:10px}
.ohd-row{display:flex;gap:8px;flex-wrap:wrap;align-items:center}
.ohd-row>.ohd-grow{flex:1}
.ohd-field{display:flex;flex-direction:column;gap:4px;font-size:12px;font-weight:600;color:var(--ohd-muted)}
.ohd-input,.ohd-select{width:100%;min-height:36px;padding:6px 10px;border:1px solid var(--ohd-line);border-radius:8px;background:#fff;color:var(--ohd-fg);font-size:14px;font-weight:400}
.ohd-input[aria-invalid=true]{border-color:var(--ohd-red)}
.ohd-input.ohd-number{font-size:18px;letter-spacing:.04em;font-variant-numeric:tabular-nums}
.ohd-hint{font-size:12px;color:var(--ohd-muted);margin:0}
.ohd-hint.ohd-bad{color:var(--ohd-red)}
.ohd-btn{display:inline-flex;align-items:center;justify-content:center;gap:6px;min-height:36px;padding:6px 12px;border:1px solid var(--ohd-line);border-radius:8px;
  background:#fff;color:var(--ohd-fg);font-weight:600;font-size:14px;cursor:pointer;white-space:nowrap;line-height:1.2;text-decoration:none}
.ohd-btn:hover{background:var(--ohd-soft)}
.ohd-btn:disabled{opacity:.55;cursor:not-allowed}
.ohd-btn[aria-pressed=true],.ohd-btn[aria-expanded=true]{background:#1e3a8a;border-color:#1e3a8a;color:#fff}
.ohd-btn-primary{background:var(--ohd-blue);border-color:var(--ohd-blue);color:#fff}
.ohd-btn-primary:hover{background:#1e40af}
.ohd-btn-answer{background:var(--ohd-green);border-color:var(--ohd-green);color:#fff}
.ohd-btn-answer:hover{background:#166534}
.ohd-btn-hangup{background:var(--ohd-red);border-color:var(--ohd-red);color:#fff}
.ohd-btn-hangup:hover{background:#991b1b}
.ohd-btn-small{min-height:28px;padding:3px 10px;font-size:13px}
.ohd-head .ohd-btn{background:transparent;color:#fff;border-color:rgba(255,255,255,.45)}
.ohd-head .ohd-btn:hover{background:rgba(255,255,255,.12)}
.ohd-btn-wide{flex:1}
.ohd-icon{width:16px;height:16px;flex:none;fill:currentColor}
.ohd-hangup-icon{transform:rotate(135deg)}
.ohd-keys{display:grid;grid-template-columns:repeat(3,1fr);gap:6px}
.ohd-key{min-height:40px;font-size:18px;font-variant-numeric:tabular-nums}
.ohd-card{border:1px solid var(--ohd-line);border-radius:10px;padding:10px 12px;background:var(--ohd-soft)}
.ohd-card[data-tone=ring]{background:#f0fdf4;border-color:#86efac}
.ohd-card[data-tone=acw]{background:#faf5ff;border-color:#d8b4fe}
.ohd-kicker{margin:0;font-size:12px;font-weight:700;color:var(--ohd-muted);text-transform:uppercase;letter-spacing:.04em}
.ohd-callnumber{margin:2px 0 0;font-size:22px;font-weight:700;font-variant-numeric:tabular-nums;letter-spacing:.02em;word-break:break-all}
.ohd-meta{margin:2px 0 0;color:var(--ohd-muted);font-size:13px;display:flex;gap:10px;flex-wrap:wrap;align-items:center}
.ohd-badge{display:inline-block;padding:1px 8px;border-radius:999px;background:#e2e8f0;color:var(--ohd-fg);font-size:12px;font-weight:600}
.ohd-badge-warn{background:#fef3c7;color:#78350f}
.ohd-panel{border-top:1px solid var(--ohd-line);padding-top:10px;display:flex;flex-direction:column;gap:8px}
.ohd-panel-title{margin:0;font-size:13px;font-weight:700}
.ohd-fieldset{border:0;padding:0;margin:0;display:flex;gap:12px;flex-wrap:wrap}
.ohd-block{display:flex;flex-direction:column;gap:8px}
.ohd-fieldset legend{padding:0;margin-bottom:4px;font-size:12px;font-weight:600;color:var(--ohd-muted)}
.ohd-fieldset>legend.ohd-panel-title{font-size:13px;font-weight:700;color:var(--ohd-fg)}
.ohd-radio{display:inline-flex;align-items:center;gap:4px;font-size:14px;cursor:pointer}
.ohd-error{margin:0 12px 12px;padding:8px 10px;border-radius:8px;background:#fef2f2;border:1px solid #fecaca;color:#7f1d1d;font-size:13px;display:flex;gap:8px;align-items:flex-start}
.ohd-error p{margin:0;flex:1;word-break:break-word}
.ohd-slot:empty{display:none}
.ohd-sr{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.ohd-shortcuts{margin:0;padding:0 12px 10px;font-size:11px;color:var(--ohd-muted)}
.ohd-quality{position:relative;display:inline-block;margin-top:4px}
.ohd-quality-summary{display:inline-flex;align-items:center;gap:5px;padding:1px 8px;border-radius:999px;background:#dcfce7;color:#14532d;font-size:12px;font-weight:600;cursor:pointer;list-style:none}
.ohd-quality-summary::-webkit-details-marker{display:none}
.ohd-quality[data-level=fair] .ohd-quality-summary{background:#fef3c7;color:#78350f}
.ohd-quality[data-level=poor] .ohd-quality-summary{background:#fee2e2;color:#7f1d1d}
.ohd-quality-mos{font-variant-numeric:tabular-nums;opacity:.85}
.ohd-signal{width:15px;height:12px;flex:none}
.ohd-signal rect{fill:currentColor;opacity:.25}.ohd-signal rect[data-on=true]{opacity:1}
.ohd-quality-detail{position:absolute;z-index:1;left:0;top:calc(100% + 4px);margin:0;padding:8px 10px;min-width:170px;background:#fff;border:1px solid var(--ohd-line);border-radius:8px;box-shadow:0 6px 16px rgba(15,23,42,.15);font-size:12px;color:var(--ohd-fg)}
.ohd-quality-detail div{display:flex;justify-content:space-between;gap:12px}
.ohd-quality-detail dt{color:var(--ohd-muted)}.ohd-quality-detail dd{margin:0;font-variant-numeric:tabular-nums;font-weight:600}
.ohd-warning{margin:8px 0 0;padding:6px 8px;border-radius:6px;background:#fee2e2;border:1px solid #fca5a5;color:#7f1d1d;font-size:13px;font-weight:600}
.ohd-targets{max-height:196px;overflow:auto;border:1px solid var(--ohd-line);border-radius:8px;padding:6px 8px;display:flex;flex-direction:column;gap:6px}
.ohd-target-group{gap:2px}
.ohd-target{display:grid;grid-template-columns:auto 1fr;column-gap:8px;align-items:center;padding:3px 4px;border-radius:6px;cursor:pointer;font-size:14px}
.ohd-target:hover{background:var(--ohd-soft)}
.ohd-target input{grid-row:span 2;margin:0}
.ohd-target-name{font-weight:600;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.ohd-target-meta{font-size:12px;color:var(--ohd-muted)}
.ohd-target[data-disabled=true]{cursor:not-allowed}.ohd-target[data-disabled=true] .ohd-target-name{color:var(--ohd-muted);font-weight:400}
`;

interface StyleHost {
  getElementById(id: string): unknown;
  createElement(tag: 'style'): HTMLStyleElement;
  readonly head: HTMLHeadElement | null;
  readonly documentElement: HTMLElement;
}

/** Adds the stylesheet to the document once (a second mount, or a second copy of the bundle, reuses it). */
export function injectStyles(doc: StyleHost): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement('style');
  style.id = STYLE_ID;
  style.textContent = CSS;
  (doc.head ?? doc.documentElement).appendChild(style);
}
