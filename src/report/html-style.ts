import { FONT } from './html-charts.js';

/** The page style of report.html and of a capacity run's report.html (one file, so neither imports the other). */
export const STYLE = `body{font-family:${FONT};margin:24px auto;padding:0 12px;max-width:1100px;color:#1d232b}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccd;padding-bottom:4px;margin-top:32px}
figure{margin:12px 0}svg{max-width:100%;height:auto}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccd;padding:3px 6px;vertical-align:top}td.num{text-align:right}
pre{white-space:pre-wrap;word-break:break-word;max-width:320px;margin:2px 0;font-size:11px}.wide{overflow-x:auto}
summary{cursor:pointer;color:#3b6fb6;font-size:11px}summary .cut{white-space:pre-wrap;word-break:break-word;color:#1d232b;font-family:monospace}.out{margin-bottom:6px}
table.dis td{min-width:60px}table.dis td:nth-child(3),table.dis td:nth-child(5),table.dis td:nth-child(6){min-width:150px}
@media print{h2{break-after:avoid}figure,tr{break-inside:avoid}}`;
