"""Pictures of the QC pages for Docs/qc.md: each figure of a case page and of a cohort page,
cut out of the pages as Chromium shows them (element screenshots).

    qc_screenshots.py CASE_PAGE COHORT_PAGE OUT_FOLDER
"""
import os
import sys

from selenium.webdriver.common.by import By

from browser_check import browser

CASE = [
    ("case-header.png", "header"),
    ("case-registration.png", "#registration-liver"),
    ("case-prescan.png", "#registration-prescan"),
    ("case-tumour-slices.png", "#tumour-1 figure.slices"),
    ("case-histogram.png", "#tumour-1 figure.plot"),
    ("case-figures.png", "#tumour-1 table.figures"),
    ("case-registration-tumour.png", "#registration-tumour-1"),
    ("case-inputs.png", "#inputs"),
]
COHORT = [
    ("cohort-waterfall.png", "#waterfall svg"),
    ("cohort-categories.png", "#category-counts"),
    ("cohort-tumours.png", "#tumours"),
    ("cohort-failures.png", "#failures"),
    ("cohort-review.png", "#review"),
]


def shoot(page, figures, out):
    driver = browser()
    try:
        driver.set_window_size(1280, 1400)
        driver.get("file://" + os.path.abspath(page))
        for name, selector in figures:
            element = driver.find_element(By.CSS_SELECTOR, selector)
            driver.execute_script("arguments[0].scrollIntoView();", element)
            element.screenshot(os.path.join(out, name))
            print(os.path.join(out, name))
    finally:
        driver.quit()


if __name__ == "__main__":
    case_page, cohort_page, out = sys.argv[1:4]
    shoot(case_page, CASE, out)
    shoot(cohort_page, COHORT, out)
