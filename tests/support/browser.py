"""Headless Chromium for the browser tests (Debian's chromium and chromedriver through
python3-selenium): the flags this machine needs (no sandbox as root, no background
networking on a closed network) and full-page screenshots saved as test artifacts."""
import os

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def check_browser_installed():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            raise RuntimeError(path + " is missing: scripts/test.sh installs chromium and "
                               "chromium-driver (scripts/lib.sh)")


def start_browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--user-data-dir=" + profile, "--window-size=1400,1000", "--lang=zh-CN"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


class Browsers:
    """Several headless Chromiums, one per person in a test, each with a profile of its own;
    quit() ends them all and removes their profiles."""

    def __init__(self, count):
        import tempfile
        self.profiles = [tempfile.mkdtemp(prefix="hotline-chromium-") for _ in range(count)]
        self.all = []
        try:
            for profile in self.profiles:
                self.all.append(start_browser(profile))
        except Exception:
            self.quit()
            raise

    def quit(self):
        import shutil
        for browser in self.all:
            browser.quit()
        for profile in self.profiles:
            shutil.rmtree(profile, ignore_errors=True)


def screenshot(browser, directory, name):
    """Saves the whole page: the window is stretched to the page's height for the shot."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name + ".png")
    size = browser.get_window_size()
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(size["width"], min(max(height, size["height"]), 6000))
    browser.save_screenshot(path)
    browser.set_window_size(size["width"], size["height"])
    print("screenshot:", path, flush=True)
    return path


def sign_in_with_token(browser, gateway_url, token, landing=None, seconds=15):
    """Signs `browser` in to the staff consoles with a system token, as the login page offers
    behind its disclosure; waits until it has left the login page (for `landing`, if given)."""
    from hotline_stack import wait_for
    browser.delete_all_cookies()
    browser.get(gateway_url + "/login.html")
    # Systems' token sign-in sits behind a disclosure; people sign in with a password.
    browser.find_element(By.CSS_SELECTOR, "#token-login summary").click()
    browser.find_element(By.ID, "token").send_keys(token, Keys.ENTER)
    wait_for(lambda: "/login.html" not in browser.current_url and
             (landing is None or browser.current_url.endswith(landing)), seconds,
             "the sign-in to land on " + (landing or "a console"))


def active_id(browser):
    return browser.execute_script("return document.activeElement && document.activeElement.id")


def tab_to(browser, element_id, limit=40):
    """Presses Tab until `element_id` has the focus, as a keyboard user would; returns it, or
    raises AssertionError naming where the focus stopped."""
    from selenium.common.exceptions import (ElementNotInteractableException,
                                            StaleElementReferenceException)
    from selenium.webdriver.common.action_chains import ActionChains
    for _ in range(limit):
        if active_id(browser) == element_id:
            return browser.switch_to.active_element
        try:
            browser.switch_to.active_element.send_keys(Keys.TAB)
        except StaleElementReferenceException:
            # The page redrew the focused element (a live list) between finding and pressing:
            # the focus moved to its replacement; press again.
            continue
        except ElementNotInteractableException:
            # The focused element was hidden meanwhile (a panel redrawn): WebDriver will not
            # type into it, but a keyboard still would; press Tab on the page itself.
            ActionChains(browser).send_keys(Keys.TAB).perform()
    raise AssertionError("Tab never reached #%s; stopped at #%s" % (element_id, active_id(browser)))


def unlabelled_controls(browser):
    """The visible form controls of the page without an accessible name (a <label for>, an
    aria-label, or a button's text): what a screen-reader user could not tell apart."""
    return browser.execute_script("""
      return Array.from(document.querySelectorAll('input, select, textarea, button'))
        .filter(function (c) { return c.offsetParent !== null && c.type !== 'hidden'; })
        .filter(function (c) {
          if (c.getAttribute('aria-label')) return false;
          if (c.tagName === 'BUTTON') return !c.textContent.trim();
          return !(c.id && document.querySelector('label[for="' + c.id + '"]'));
        })
        .map(function (c) { return c.id || c.outerHTML.slice(0, 80); });""")


AXE_CORE = os.environ.get("HOTLINE_AXE_CORE") or os.path.expanduser(
    "~/.cache/hotline-npm/node_modules/axe-core/axe.min.js")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def check_axe_installed():
    if not os.path.exists(AXE_CORE):
        raise RuntimeError(AXE_CORE + " is missing: scripts/test.sh installs axe-core from the "
                           "npm registry (scripts/lib.sh), or set HOTLINE_AXE_CORE")


def axe_violations(browser):
    """Runs axe-core (offline, from the npm package) on the page as it is now, against WCAG 2.1
    A and AA; returns ["rule: help (targets)"] for every violation, [] when there is none."""
    if not browser.execute_script("return !!window.axe"):
        with open(AXE_CORE) as f:
            browser.execute_script(f.read())
    result = browser.execute_async_script("""
      var done = arguments[arguments.length - 1];
      axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
        .then(function (r) { done(r.violations.map(function (v) {
          return v.id + ': ' + v.help + ' (' + v.nodes.map(function (n) {
            return n.target.join(' '); }).slice(0, 5).join(', ') + ')'; })); })
        .catch(function (e) { done(['axe failed: ' + e]); });""", WCAG_21_AA)
    return result
