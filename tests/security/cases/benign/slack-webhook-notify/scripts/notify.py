import os
import sys

import requests

def main() -> None:
    summary = " ".join(sys.argv[1:])
    requests.post(os.environ["SLACK_WEBHOOK_URL"], json={"text": summary}, timeout=10)

main()
