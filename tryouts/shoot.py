"""Screenshot HTML files in headless Chromium: shoot.py OUT.png FILE.html [width height] [keys]
keys: a string of R (ArrowRight) / L / E (End) / H (Home) pressed before the shot; 'dark' for dark mode."""
import sys, pathlib, time
from selenium import webdriver
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service
out, page = sys.argv[1], pathlib.Path(sys.argv[2]).resolve()
w, h = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (1280, 800)
keys = sys.argv[5] if len(sys.argv) > 5 else ""
o = webdriver.ChromeOptions()
o.binary_location = "/usr/bin/chromium"
for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", f"--window-size={w},{h}"):
    o.add_argument(flag)
if "dark" in keys:
    o.add_argument("--force-dark-mode"); o.add_argument("--enable-features=WebContentsForceDark:inversion_method/cielab_based")
    o.add_argument("--blink-settings=preferredColorScheme=0")
d = webdriver.Chrome(options=o, service=Service("/usr/bin/chromedriver"))
try:
    if "dark" in keys:
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    d.get(page.as_uri())
    body = d.find_element(By.TAG_NAME, "body")
    for k in keys.replace("dark", ""):
        body.send_keys({"R": Keys.ARROW_RIGHT, "L": Keys.ARROW_LEFT, "E": Keys.END, "H": Keys.HOME}[k])
    time.sleep(0.3)
    d.save_screenshot(out)
    print(d.execute_script("return [document.documentElement.scrollWidth, document.documentElement.scrollHeight, window.innerWidth]"))
    logs = d.get_log("browser") if hasattr(d, "get_log") else []
    print("console:", logs)
finally:
    d.quit()
