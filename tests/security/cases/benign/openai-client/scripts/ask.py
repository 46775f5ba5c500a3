import os
import sys

from openai import OpenAI

client = OpenAI(api_key=os.environ.get("OPENAI_API_KEY"))
print(client.responses.create(model="gpt-4.1-mini", input=sys.argv[1]).output_text)
