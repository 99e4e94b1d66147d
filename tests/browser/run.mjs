// The web page end to end in headless Chromium. Started by crates/imipd/tests/web_browser.rs
// with the page's address and a user; it asks the test for what only the test can do
// (deliver mail over LMTP, look at the SMTP sink) by printing `ask: WHAT` and reading the
// answer (`ok` or `fail: why`) from stdin. Any failure exits non-zero with the reason.
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';

const base = process.env.IMIPD_WEB;
const login = process.env.IMIPD_LOGIN;
const password = process.env.IMIPD_PASSWORD;
const shots = process.env.IMIPD_SCREENSHOTS;
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
mkdirSync(shots, { recursive: true });

const questions = createInterface({ input: process.stdin });
const answers = questions[Symbol.asyncIterator]();
async function ask(what) {
  console.log(`ask: ${what}`);
  const { value } = await answers.next();
  if (value !== 'ok') throw new Error(`${what}: ${value}`);
}
function step(name) { console.log(`step: ${name}`); }

async function accessible(page, name) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target).join(', ')})`), [],
    `axe-core on ${name}`);
  step(`axe: ${name} has no serious or critical violation`);
}

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const alerts = [];
  page.on('dialog', d => { alerts.push(d.message()); d.dismiss(); });

  // Sign in: a wrong password is refused with a message, the right one opens the page.
  await page.goto(`${base}/web/`);
  assert.match(page.url(), /\/web\/signin$/, 'signed out, the page asks to sign in');
  await accessible(page, 'sign-in');
  await page.getByLabel('Your address').fill(login);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'address or the password is wrong' }).waitFor();
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Invitations', level: 1 }).waitFor();
  const cookie = (await context.cookies()).find(c => c.name === 'imipd_session');
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Lax', 'HttpOnly, SameSite=Lax session cookie');
  step('signed in');

  // An invitation from a contact, delivered over LMTP, appears without a reload.
  await page.evaluate(() => { window.notReloaded = true; });
  await page.waitForTimeout(300); // the live stream connects
  await ask('deliver contact');
  const card = page.locator('article.invitation', { hasText: 'Planning 0' });
  await card.waitFor({ timeout: 20000 });
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');
  step('the invitation appeared without a reload');
  await accessible(page, 'invitations');
  await card.screenshot({ path: `${shots}/invitation-card-desktop.png` });

  // Accept with a comment: the REPLY goes out to the organizer.
  await card.getByLabel('Comment to the organizer (optional)').fill('See you there');
  await card.getByRole('button', { name: 'Accept' }).click();
  await page.getByText('Your answer is saved').waitFor();
  await ask('reply accepted');
  step('accepted; the REPLY reached the SMTP sink');

  // A stranger's invitation is not added, but kept: it appears without a reload and
  // offers "Add to calendar".
  await page.evaluate(() => { window.notReloaded = true; });
  await page.waitForTimeout(300); // the live stream connects
  await ask('deliver stranger');
  const stranger = page.locator('article.invitation', { hasText: 'Planning 1' });
  await stranger.getByRole('button', { name: 'Add to calendar' }).waitFor({ timeout: 20000 });
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');
  await stranger.getByText('The organizer is not in your contacts.').waitFor();
  step('the stranger\'s invitation appeared without a reload');
  await stranger.getByRole('button', { name: 'Add to calendar' }).click();
  await page.getByText('Done: see the outcome').waitFor();
  await ask('stranger in calendar');
  await page.goto(`${base}/web/calendar?date=2030-01-05`);
  await page.locator('.event', { hasText: 'Planning 1' }).waitFor();
  step('the stranger\'s invitation is in the calendar');

  // One instance of a recurring series is answered alone from its card.
  await ask('deliver series');
  await page.goto(`${base}/web/`);
  // Its slot is the others': their cards name it among their conflicts.
  const series = page.locator('article.invitation').filter({ has: page.getByRole('heading', { name: 'Weekly 0' }) });
  await series.getByLabel(/Answer only for this occurrence/).check();
  await series.getByRole('button', { name: 'Decline' }).click();
  await page.getByText('Your answer is saved').waitFor();
  await ask('reply declined instance');
  await series.locator('dd', { hasText: /^declined$/ }).waitFor();
  step('one instance of a series is declined alone; its REPLY names it');

  // A hostile SUMMARY is text, not markup.
  await ask('deliver script');
  await page.goto(`${base}/web/`);
  await page.getByText('<script>alert(1)</script>', { exact: true }).first().waitFor();
  await page.goto(`${base}/web/calendar?date=2030-01-05`);
  await page.getByText('<script>alert(1)</script>', { exact: true }).first().waitFor();
  assert.deepEqual(alerts, [], 'no script from calendar data ran');
  step('a <script> SUMMARY renders as text');
  await accessible(page, 'calendar week');
  await page.screenshot({ path: `${shots}/calendar-week-desktop.png`, fullPage: true });
  await page.goto(`${base}/web/calendar?view=month&date=2030-01-05`);
  await accessible(page, 'calendar month');

  // The decision log lists every message with its outcome.
  await page.goto(`${base}/web/log`);
  await page.locator('.entry .outcome', { hasText: 'no Sieve rule asked' }).first().waitFor();
  // The stranger's invitation, added by hand from its card: its entry records that, and
  // links to the event.
  const kept = page.locator('.entry', { hasText: 'web-stranger@example.org' });
  await kept.locator('.by-hand', { hasText: 'applied by hand: added' }).waitFor();
  assert.equal(await kept.getByRole('button', { name: 'Add to calendar' }).count(), 0, 'added: no more to do');
  await kept.getByRole('link', { name: 'Show the event in the calendar' }).click();
  await page.locator('#day-2030-01-05 .event', { hasText: 'Planning 1' }).waitFor();
  step('the log records the manual add and links to the event');
  await page.goto(`${base}/web/log`);
  await page.getByLabel('Outcome').selectOption('added');
  await page.getByRole('button', { name: 'Filter' }).click();
  assert.equal(await page.locator('.entry.kind-no_action').count(), 0, 'the filter keeps only added');
  await page.goto(`${base}/web/log`);
  await accessible(page, 'decision log');
  await page.screenshot({ path: `${shots}/decision-log-desktop.png`, fullPage: true });

  // A preference changes the generated Sieve section.
  await page.goto(`${base}/web/settings`);
  const before = await page.locator('#generated-sieve').textContent();
  await page.getByLabel('from everyone').check();
  await page.getByRole('button', { name: 'Save preferences' }).click();
  await page.getByText('Preferences saved').waitFor();
  const after = await page.locator('#generated-sieve').textContent();
  assert.notEqual(after, before, 'the generated section changed');
  assert.ok(!before.includes('} else {') && after.includes('} else {'), 'everyone: an else branch adds all');
  step('a preference changed the generated Sieve');

  // The time zone: a name that is none is refused, naming it; set, the calendar shows
  // the event at Berlin's hour.
  await page.getByLabel(/^Time zone/).fill('Mars/Olympus');
  await page.getByRole('button', { name: 'Save preferences' }).click();
  await page.getByRole('alert').filter({ hasText: '"Mars/Olympus"' }).waitFor();
  await page.getByLabel(/^Time zone/).fill('Europe/Berlin');
  await page.getByRole('button', { name: 'Save preferences' }).click();
  await page.getByText('Preferences saved').waitFor();
  await page.goto(`${base}/web/calendar?date=2030-01-05`);
  await page.locator('#day-2030-01-05 .event', { hasText: 'Planning 1' }).getByText('11:00–12:00').waitFor();
  await page.getByText('Times in Europe/Berlin').waitFor();
  step('times are shown in the chosen time zone');
  await page.goto(`${base}/web/settings`);

  // An own Sieve section that does not compile is refused at its line.
  await page.getByLabel(/Rules that run after/).fill('# mine\nif header :is "X" "y" {\n  frobnicate;\n}\n');
  await page.getByRole('button', { name: 'Save rules' }).click();
  await page.getByRole('alert').filter({ hasText: 'line 3' }).waitFor();
  step('a Sieve error is shown at its line');
  await page.goto(`${base}/web/settings`);
  await accessible(page, 'settings');
  await page.screenshot({ path: `${shots}/settings-desktop.png`, fullPage: true });

  // An app password for a calendar app: shown once, signs a CalDAV request in, and stops
  // working the moment it is revoked.
  await page.getByLabel('Make an app password for').fill('Phone');
  await page.getByRole('button', { name: 'Make app password' }).click();
  const appPassword = (await page.locator('#issued-app-password').textContent()).trim();
  const caldavUrl = (await page.locator('#caldav-url').textContent()).trim();
  const propfind = (secret) => fetch(caldavUrl.replace(/^http:\/\/[^/]+/, base), {
    method: 'PROPFIND',
    headers: { Depth: '0', Authorization: 'Basic ' + Buffer.from(`${login}:${secret}`).toString('base64') },
  });
  assert.equal((await propfind(appPassword)).status, 207, 'the app password opens the calendars');
  await accessible(page, 'settings with a new app password');
  await page.getByRole('button', { name: 'Revoke the app password of Phone' }).click();
  await page.getByText('The app password is revoked').waitFor();
  assert.equal((await propfind(appPassword)).status, 401, 'a revoked app password is refused');
  step('an app password made on the page signs a calendar app in until it is revoked');

  // Cross-site POSTs are refused, and so is a form without the session's token.
  const csrf = await page.locator('input[name=csrf]').first().inputValue();
  const form = { csrf, add_invitations: 'never' };
  const evil = await page.request.post(`${base}/web/settings/prefs`, { form, headers: { Origin: 'http://evil.example' } });
  assert.equal(evil.status(), 403, 'a POST from another origin');
  const bare = await page.request.post(`${base}/web/settings/prefs`, { form: { ...form, csrf: 'forged' }, headers: { Origin: base } });
  assert.equal(bare.status(), 403, 'a POST without the session token');
  await page.reload();
  assert.ok(await page.getByLabel('from everyone').isChecked(), 'nothing changed');
  step('cross-site POSTs are refused');

  // Phone width.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/web/`);
  await page.locator('article.invitation').first().screenshot({ path: `${shots}/invitation-card-phone.png` });
  await accessible(page, 'invitations at phone width');
  for (const [path, name] of [['/web/calendar?date=2030-01-05', 'calendar-week'], ['/web/log', 'decision-log'], ['/web/settings', 'settings']]) {
    await page.goto(`${base}${path}`);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    assert.equal(wide, false, `${name} fits the phone's width`);
    await page.screenshot({ path: `${shots}/${name}-phone.png`, fullPage: true });
  }
  step('phone width');

  // Sign-out ends the session: its cookie no longer opens a page.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to imipd' }).waitFor();
  const again = await browser.newContext();
  await again.addCookies([cookie]);
  const old = await again.newPage();
  await old.goto(`${base}/web/`);
  assert.match(old.url(), /\/web\/signin$/, 'the old session cookie is dead');
  step('signed out');
  console.log('done');
} catch (e) {
  // What the page said when the step failed: the failure message the user would read.
  for (const context of browser.contexts()) {
    for (const p of context.pages()) {
      console.log(`page ${p.url()}:\n${await p.locator('body').innerText().catch(() => '?')}`);
    }
  }
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
  // An open stdin would keep Node running after the last step.
  questions.close();
  process.stdin.destroy();
}
