// The README's picture of the dashboard, taken with the same headless
// chromium as t/806, from a running demo with real traffic:
//
//   make demo PORT=8080
//   node tests/browser/traffic.mjs http://127.0.0.1:8080      (some requests)
//   node tests/browser/screenshot.mjs http://127.0.0.1:8080 docs/dashboard.png
//
// CHROMIUM names the browser (default /usr/bin/chromium); ADMIN_TOKEN signs
// in when the admin API wants a token.
import puppeteer from 'puppeteer-core';

const [base, out] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  timeout: 120000,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
         '--no-first-run', '--hide-scrollbars']
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1440, height: 900, deviceScaleFactor: 1 });
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
  await page.goto(base + '/dashboard', { waitUntil: 'load' });
  if (process.env.ADMIN_TOKEN) {
    await page.waitForSelector('#signin-form', { visible: true });
    await page.type('#token', process.env.ADMIN_TOKEN);
    await page.click('#signin-form button[type="submit"]');
  }
  await page.waitForSelector('#requests tbody tr[data-request]', { timeout: 30000 });
  await page.type('#query', 'tag:free');
  await page.click('#explain-form button[type="submit"]');
  await page.waitForSelector('#explain-table tbody tr', { timeout: 30000 });
  await page.screenshot({ path: out, fullPage: true });
  console.log('wrote ' + out);
} finally {
  await browser.close();
}
