// The seed's "log in with Google" flow in a real browser: Debian's Chromium, driven
// by playwright-core, through admit's demo site, login and consent pages.
//
// Usage: node demo_flow.mjs SITE_URL USERNAME PASSWORD ARTIFACT_DIR
// Prints a JSON summary; exits non-zero (with a screenshot of the failing page) on failure.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [siteUrl, username, password, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // This machine has no network but loopback: keep Chromium from reaching out.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
page.setDefaultTimeout(15000);
let step = 0;
const shot = async (name) => page.screenshot({ path: `${artifacts}/${String(++step).padStart(2, '0')}-${name}.png`, fullPage: true });
const summary = {};

try {
  await page.goto(siteUrl);
  await shot('site-home');
  await page.click('#login');

  // (1)-(2) The authorize redirect lands on admit's own login page: another origin.
  await page.waitForSelector('input[name="password"]');
  summary.login_origin = new URL(page.url()).origin;
  summary.site_origin = new URL(siteUrl).origin;
  summary.login_label_for_username = await page.getAttribute('label[for="username"]', 'for');
  await shot('admit-login');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#submit');

  // The consent page names the client and lists the scopes in words.
  await page.waitForSelector('#approve');
  summary.consent_text = (await page.textContent('main')).replace(/\s+/g, ' ').trim();
  await shot('admit-consent');
  await page.click('#approve');

  // (3)-(5) Back at the site: user info, decoded tokens, the API call, the timeline.
  await page.waitForSelector('#userinfo');
  summary.back_on_site = page.url().startsWith(siteUrl);
  summary.userinfo = (await page.textContent('#userinfo')).replace(/\s+/g, ' ').trim();
  summary.id_token = (await page.textContent('#id-token')).replace(/\s+/g, ' ').trim();
  summary.access_token = (await page.textContent('#access-token')).replace(/\s+/g, ' ').trim();
  summary.api_call = (await page.textContent('#api-call')).replace(/\s+/g, ' ').trim();
  summary.timeline_steps = await page.locator('#timeline li').count();
  await shot('site-logged-in');

  await page.click('#refresh');
  await page.waitForSelector('#userinfo');
  summary.timeline_steps_after_refresh = await page.locator('#timeline li').count();
  await shot('site-refreshed');

  await page.click('#logout');
  await page.waitForSelector('#login');
  summary.logged_out_on_site = page.url().startsWith(siteUrl);
  await shot('site-logged-out');

  // Logged out at admit too: logging in again asks for the password.
  await page.click('#login');
  await page.waitForSelector('input[name="password"]');
  summary.password_asked_again = true;
  await shot('admit-login-again');
  console.log(JSON.stringify(summary));
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(`failed at ${page.url()}: ${e.stack || e}`);
  console.error(JSON.stringify(summary));
  process.exitCode = 1;
} finally {
  await browser.close();
}
