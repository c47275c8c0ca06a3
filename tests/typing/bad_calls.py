"""Calls that must NOT type-check (test_type_check.py asserts each error, by line)."""

import reqbed

MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"

reqbed.generate_text(MODEL, "hi", max_token=5)  # line 7: a misspelt option
reqbed.generate_text(MODEL, "hi", temperature="hot")  # line 8: a wrong type
reqbed.generate_text(MODEL, "hi", provider_options={"regoin": "us-east-1"})  # line 9: a misspelt provider option
reqbed.generate_text(MODEL, "hi", reasoning_effort="extreme")  # line 10: not one of the literals
with reqbed.stream_text(MODEL, "hi") as stream:
    for chunk in stream:
        print(chunk.text)  # line 13: not narrowed: only some chunks have .text
reqbed.embed("bedrock:amazon.titan-embed-text-v2:0", "hi", dimensoins=256)  # line 14: a misspelt embed option
reqbed.count_tokens(MODEL, "hi", estimate="yes")  # line 15: estimate is a bool
print(reqbed.generate_object(MODEL, "hi", reqbed.Usage).object.input_tokenz)  # line 16: .object is typed: a Usage
reqbed.generate_object(MODEL, "hi", {"type": "object"}, mode="telepathy")  # line 17: not a mode
