"""Opens mam-quantify's pages in a real browser (Debian's headless Chromium, driven by
selenium through chromium-driver) and reports what a reviewer would meet, as JSON.

    browser_check.py case PAGE.html SCREENSHOT.png
        console errors, images that did not load, and the before/after toggle of the
        registration figure (which images show before and after a click)
    browser_check.py cohort PAGE.html SCREENSHOT.png DOWNLOADS REVIEWS.json
        console errors, images that did not load; the tumour table's MAM column before and
        after clicking its heading once and twice; the rows left by a filter; then the review
        form filled as REVIEWS.json says ({"case": ["accept" or "reject", "comment"]}), kept
        across a reload, and exported with both buttons into DOWNLOADS

A full-page screenshot is written to SCREENSHOT.png so that a person can look at it.
"""
import json
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def browser(downloads=None):
    options = Options()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--allow-file-access-from-files"]:
        options.add_argument(argument)
    options.binary_location = os.environ.get("MAMQ_CHROMIUM", "/usr/bin/chromium")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # A profile of its own: no state from another run or user.
    options.add_argument("--user-data-dir=" + tempfile.mkdtemp(prefix="mamq-chromium-"))
    if downloads:
        options.add_experimental_option("prefs", {"download.default_directory": downloads,
                                                  "download.prompt_for_download": False})
    service = Service(os.environ.get("MAMQ_CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def console_errors(driver):
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]


def broken_images(driver):
    return driver.execute_script(
        "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.id || i.src.slice(0, 80));")


def full_screenshot(driver, path):
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(height + 40, 12000))
    driver.save_screenshot(path)


def visible_ids(driver, selector):
    return [e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()]


def check_case(page, screenshot):
    driver = browser()
    try:
        driver.get("file://" + os.path.abspath(page))
        result = {"title": driver.title, "images": len(driver.find_elements(By.TAG_NAME, "img")),
                  "brokenImages": broken_images(driver)}
        figure = "#registration-liver"
        result["shownBefore"] = visible_ids(driver, figure + " img")
        full_screenshot(driver, screenshot)
        buttons = driver.find_elements(By.CSS_SELECTOR, "button.toggle[data-target='registration-liver']")
        if buttons:
            buttons[0].click()
            result["shownAfterClick"] = visible_ids(driver, figure + " img")
            result["buttonAfterClick"] = buttons[0].text
        result["consoleErrors"] = console_errors(driver)
        return result
    finally:
        driver.quit()


def column(driver, index):
    rows = driver.find_elements(By.CSS_SELECTOR, "#tumour-table tr.tumour-row")
    return [r.find_elements(By.TAG_NAME, "td")[index].text for r in rows if r.is_displayed()]


def wait_for(path, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        if os.path.exists(path) and not os.path.exists(path + ".crdownload"):
            return True
        time.sleep(0.1)
    return False


def check_cohort(page, screenshot, downloads, reviews_path):
    with open(reviews_path) as f:
        wanted = json.load(f)
    driver = browser(downloads)
    try:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
        driver.get("file://" + os.path.abspath(page))
        result = {"title": driver.title, "images": len(driver.find_elements(By.TAG_NAME, "img")),
                  "brokenImages": broken_images(driver)}
        full_screenshot(driver, screenshot)
        headings = driver.find_elements(By.CSS_SELECTOR, "#tumour-table th")
        mam = [h.text for h in headings].index("MAM (mm)")
        result["mamBefore"] = column(driver, mam)
        headings[mam].click()
        result["mamAfterOneClick"] = column(driver, mam)
        headings[mam].click()
        result["mamAfterTwoClicks"] = column(driver, mam)
        first = column(driver, 0)[0]
        box = driver.find_element(By.ID, "filter")
        box.send_keys(first)
        result["filter"] = first
        result["casesAfterFilter"] = column(driver, 0)
        result["shownText"] = driver.find_element(By.ID, "shown").text
        box.clear()
        box.send_keys(" ")  # clear() fires no input event; a blank filter shows every row
        result["rowsAfterClearing"] = len(column(driver, 0))

        for case, (verdict, comment) in wanted.items():
            row = driver.find_element(By.CSS_SELECTOR, f"tr.review-row[data-case='{case}']")
            row.find_element(By.CSS_SELECTOR, f"input[value='{verdict}']").click()
            field = row.find_element(By.CSS_SELECTOR, "input.comment")
            field.send_keys(comment)
        driver.refresh()
        kept = {}
        for row in driver.find_elements(By.CSS_SELECTOR, "tr.review-row"):
            checked = [r.get_attribute("value") for r in row.find_elements(By.CSS_SELECTOR, "input[type=radio]") if r.is_selected()]
            comment = row.find_element(By.CSS_SELECTOR, "input.comment").get_attribute("value")
            if checked or comment:
                kept[row.get_attribute("data-case")] = [checked[0] if checked else "", comment]
        result["keptAfterReload"] = kept
        result["reviewedText"] = driver.find_element(By.ID, "reviewed").text
        driver.find_element(By.ID, "export-csv").click()
        driver.find_element(By.ID, "export-json").click()
        result["exported"] = [name for name in ("review.csv", "review.json") if wait_for(os.path.join(downloads, name))]
        result["consoleErrors"] = console_errors(driver)
        return result
    finally:
        driver.quit()


def main():
    mode = sys.argv[1]
    if mode == "case":
        print(json.dumps(check_case(sys.argv[2], sys.argv[3])))
    elif mode == "cohort":
        print(json.dumps(check_cohort(*sys.argv[2:6])))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
