import sys

import requests

r = requests.get("https://api.weather.example.invalid/v1/forecast", params={"city": sys.argv[1]}, timeout=10)
print(r.json()["summary"])
