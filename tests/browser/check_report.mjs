// Opens a trainer's run report in headless Chromium (Debian's, /usr/bin/chromium) and checks
// what a person would see: no console or page errors, no request leaving the file, every
// picture decoded, the curves, the confusion matrix, the image galleries and the filters
// with the counts the run implies. Saves a screenshot of the whole page.
//
//   node check_report.mjs PAGE.html --status finished --test-count 1000 --epochs 2
//        [--filters 6] [--classes 10] [--no-evaluation] [--screenshot FILE.png]
// Prints what it found; exits 1 with one line per failed check.
import { chromium } from 'playwright-core';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const page_ = args.shift();
const want = {};
for (let i = 0; i < args.length; ++i) {
  const flag = args[i].replace(/^--/, '');
  if (flag === 'no-evaluation') want.noEvaluation = true;
  else want[flag] = args[++i];
}
if (!page_) {
  console.error('usage: node check_report.mjs PAGE.html [--status S] [--test-count N] [--epochs N] ...');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const failures = [];
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const url = pathToFileURL(path.resolve(page_)).href;
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') failures.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (r.url() !== url && !r.url().startsWith('data:')) failures.push(`the page fetched ${r.url()}`);
  });
  page.on('requestfailed', (r) => failures.push(`request failed: ${r.url()}`));
  await page.goto(url, { waitUntil: 'load' });

  const found = await page.evaluate(() => {
    const all = (s) => Array.from(document.querySelectorAll(s));
    const counts = all('#confusion-matrix td.count').map((td) => Number(td.dataset.count));
    const rows = all('#confusion-matrix tr').length - 1;
    const diagonal = [];
    for (let r = 0; r < rows; ++r) diagonal.push(counts[r * rows + r]);
    const accuracyChart = all('#curves svg.chart')[1];
    return {
      status: document.querySelector('#status')?.className.replace('status ', ''),
      statusText: document.querySelector('#status')?.textContent,
      charts: all('#curves svg.chart').length,
      accuracyPoints: accuracyChart ? accuracyChart.querySelector('polyline')?.getAttribute('points').trim().split(/\s+/).length : 0,
      rows,
      cells: counts.length,
      matrixSum: counts.reduce((a, b) => a + b, 0),
      diagonal,
      wrong: all('figure.example.wrong').length,
      right: all('figure.example.right').length,
      rightPerClass: all('figure.example.right figcaption').length,
      filters: all('img.filter').length,
      undecoded: all('img').filter((img) => !(img.complete && img.naturalWidth > 0)).length,
      images: all('img').length,
      graph: !!document.querySelector('#graph svg'),
      summary: document.querySelector('#summary')?.textContent.includes('Total params') ?? false,
      settings: all('#settings tr').length,
    };
  });
  console.log(JSON.stringify({ ...found, diagonal: undefined }));

  const expect = (ok, what) => { if (!ok) failures.push(what); };
  if (want.status) expect(found.status === want.status, `status is '${found.status}', expected '${want.status}'`);
  if (want.epochs) {
    expect(found.charts === 4, `${found.charts} charts, expected 4 (loss, accuracy, learning rate, speed)`);
    expect(found.accuracyPoints === Number(want.epochs), `the accuracy curve has ${found.accuracyPoints} points, expected ${want.epochs}`);
  }
  expect(found.summary, 'no model summary');
  expect(found.graph, 'no model graph');
  expect(found.settings > 5, `only ${found.settings} settings rows`);
  expect(found.undecoded === 0, `${found.undecoded} of ${found.images} pictures did not decode`);
  if (want.noEvaluation) {
    expect(found.cells === 0 && found.images === 0, 'a page without an evaluated epoch shows test results');
  } else {
    const classes = Number(want.classes || 10);
    expect(found.rows === classes && found.cells === classes * classes, `the matrix is ${found.rows} rows, ${found.cells} cells; expected ${classes}x${classes}`);
    if (want['test-count']) expect(found.matrixSum === Number(want['test-count']), `the matrix sums to ${found.matrixSum}, expected ${want['test-count']}`);
    const wrongTotal = found.matrixSum - found.diagonal.reduce((a, b) => a + b, 0);
    expect(found.wrong === Math.min(16, wrongTotal), `${found.wrong} most-wrong images, expected ${Math.min(16, wrongTotal)}`);
    const rightExpected = found.diagonal.reduce((a, d) => a + Math.min(3, d), 0);
    expect(found.right === rightExpected, `${found.right} right images, expected ${rightExpected} (up to 3 per class)`);
    if (want.filters) expect(found.filters === Number(want.filters), `${found.filters} filters, expected ${want.filters}`);
  }
  if (want.screenshot) await page.screenshot({ path: want.screenshot, fullPage: true });
} finally {
  await browser.close();
}
if (failures.length) {
  for (const f of failures) console.error(`check_report: ${page_}: ${f}`);
  process.exit(1);
}
console.log(`check_report: ${page_}: ok`);
