#!/usr/bin/env python3
"""Writes chat_template_cases.jsonl: Jinja2 templates with the output Python's jinja2 gives them.

Not part of the build or the tests (they read only the .jsonl). Rerun by hand after editing the
case list:  python3 tests/text/chat_template_cases_gen.py > tests/text/chat_template_cases.jsonl

The environment mirrors transformers' apply_chat_template: ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks and the loopcontrols extension, raise_exception() as a global, and the
variables ChatTemplate passes (bos_token, eos_token, tools=None, documents=None, messages=[],
add_generation_prompt=False, unless a case sets them). Cases with "hf_tojson" also replace the
tojson filter as transformers does.
"""
import json
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

MSGS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi <there> & 'you'"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "  What is 2+2?\n"},
]

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Get the weather <now>",
                                      "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                     "required": ["city"]}}},
]

TOOL_MSGS = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
    {"role": "tool", "content": "{\"temp\": 21}"},
    {"role": "tool", "content": "{\"sky\": \"clear\"}"},
    {"role": "assistant", "content": "It is 21C and clear."},
]

LLAMA3 = r"""{{- bos_token }}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none %}
    {{- "You have access to the following functions.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable and message.content is not string %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""

QWEN = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""

CHATML_PLAIN = """{% for message in messages %}
{% if loop.first and message['role'] != 'system' %}
<|im_start|>system
You are a helpful assistant.<|im_end|>
{% endif %}
<|im_start|>{{ message['role'] }}
{{ message['content'] }}<|im_end|>
{% endfor %}
{% if add_generation_prompt %}
<|im_start|>assistant
{% endif %}
"""

MISTRAL = ("{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
           "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
           "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
           "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
           "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}")

DEEPSEEK = """{% set ns = namespace(system_prompt='', is_first=true) %}
{%- for message in messages %}
  {%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}
{%- endfor %}
{{- bos_token }}{{ ns.system_prompt }}
{%- for message in messages %}
  {%- if message['role'] == 'user' %}
    {{- '<｜User｜>' + message['content'] }}
  {%- elif message['role'] == 'assistant' %}
    {%- set content = message['content'] %}
    {%- if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}
    {{- '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}
  {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}"""

GEMMA = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- set role = "model" if message['role'] == 'assistant' else message['role'] -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {{ message['content'] | trim }}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{ '<start_of_turn>model\n' }}
{%- endif -%}
"""

PHI4_PATH = "models/phi4-mini-flash-reasoning/tokenizer_config.json"

CASES = []


def case(name, template, hf_tojson=False, **variables):
    CASES.append({"name": name, "template": template, "vars": variables, "hf_tojson": hf_tojson})


# ---- whitespace control ----
case("ws/trim_lstrip_if", "a\n{% if true %}\nb\n{% endif %}\nc")
case("ws/lstrip_inline", "  {% if true %}x{% endif %}  ")
case("ws/for_lines", "{% for i in [1,2] %}\n  {{ i }}\n{% endfor %}")
case("ws/minus_both", "a {%- if true -%} b {%- endif -%} c")
case("ws/var_minus", "a  {{- 'x' -}}  b")
case("ws/var_no_lstrip", "a\n  {{ 'x' }}\n")
case("ws/comment_minus", "{#- comment -#}  x")
case("ws/comment_line", "a\n  {# c #}\nb")
case("ws/plus_lstrip", "x\n  {%+ if true %}y{% endif %}")
case("ws/plus_trim", "{% if true +%}\nyes{% endif %}")
case("ws/raw", "{% raw %}{{ x }}{% if %}{% endraw %}")
case("ws/raw_lines", "  {% raw %}\n{{x}}\n  {% endraw %}\nz")
case("ws/raw_minus", "a {%- raw -%} b {%- endraw -%} c")
case("ws/crlf", "a\r\nb\r\n{% if true %}\r\nc{% endif %}\r\n")
case("ws/minus_number", "{{-1}}{{+2}}")
case("ws/tab_lstrip", "\t{% if true %}\tx{% endif %}")
case("ws/comment_inline_newline", "a{# comment #}\nb")
case("ws/two_trailing_newlines", "text\n\n")
case("ws/for_string", "{% for x in 'ab' %}{{ x }}\n{% endfor %}")
case("ws/vars_lines", "{{ 'a' }}\n{{ 'b' }}\n")
case("ws/minus_after_newline", "line\n    {%- if true %}\n  x{% endif %}")
case("ws/lstrip_after_var", "{{ 'v' }}  {% if true %}x{% endif %}")
case("ws/lstrip_after_block_newline", "{% if true %}\n  {% if true %}y{% endif %}{% endif %}")
case("ws/minus_var_end_newlines", "{{ 'a' -}}\n\n   b")
case("ws/unicode_space_minus", "a\u3000\u00a0{%- if true %}b{% endif %}")
case("ws/nbsp_no_lstrip", "x\n\u00a0{% if true %}b{% endif %}")
case("ws/else_lines", "{% if false %}\na\n{% else %}\nb\n{% endif %}\n")

# ---- literals and output ----
case("lit/escapes", r'''{{ 'a\nb\tc\\d\'e\"f' }}|{{ '\x41\u00e9\101' }}|{{ '\d\q' }}|{{ "dq\"x" }}''')
case("lit/numbers", "{{ 1 }} {{ 1.0 }} {{ 1.5e-7 }} {{ 1e16 }} {{ 1e15 }} {{ 0.1 + 0.2 }} {{ 1/3 }} {{ 10/2 }} "
     "{{ 2.5e300 * 10 }} {{ 1E3 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 12.5 }} {{ 100000000000000000.0 }}")
case("lit/float_small", "{{ 0.0001 }} {{ 0.00001 }} {{ -0.0 }} {{ 123456789012345678 }} {{ 1.5e16 }} {{ 3.14159 }}")
case("lit/constants", "{{ none }} {{ None }} {{ true }} {{ False }} {{ True }} {{ false }}")
case("lit/list_repr", "{{ [1, 'a', none, true, 1.5, [2]] }}")
case("lit/dict_repr", "{{ {'a': 1, 'b': [2], 'c': {'d': none}} }}")
case("lit/tuple_repr", "{{ (1,) }} {{ () }} {{ (1, 2) }} {{ 1, 2 }}")
case("lit/str_repr_quotes", "{{ ['it\\'s', \"q\\\"\", 'both\\'\"', 'nl\\n', 'tab\\t', 'back\\\\'] }}")
case("lit/adjacent_strings", "{{ 'a' 'b' \"c\" }}")
case("lit/unicode", "{{ 'héllo 😀 日本' }}|{{ ['é', '😀'] }}")
case("lit/trailing_commas", "{{ [1, 2,] }} {{ {'a': 1,} }} {{ (1, 2,) }}")
case("lit/dict_dup_keys", "{{ {'a': 1, 'b': 2, 'a': 3} }}")

# ---- subscripts and slices ----
case("sub/strings", "{{ 'abc'[1] }} {{ 'abc'[-1] }} {{ 'abc'[1:] }} {{ 'abcdef'[::2] }} {{ 'abc'[::-1] }} {{ 'abc'[5] }}|")
case("sub/lists", "{{ [1,2,3][1:] }} {{ [1,2,3][:-1] }} {{ [1,2,3][5] }}| {{ [1,2,3][-2] }} {{ [1,2,3,4,5][4:1:-2] }} {{ [1,2,3][-10:10] }}")
case("sub/unicode", "{{ 'héllo'[1:3] }} {{ 'héllo'|length }} {{ '日本語'[1] }} {{ '日本語'[::-1] }}")
case("sub/messages", "{% for m in messages[1:] %}{{ m.role }}{% endfor %}|{{ messages[0]['content'] }}|{{ messages[-1].role }}|{{ messages[1:3]|length }}",
     messages=MSGS)
case("sub/dot_int", "{{ [10, 20].1 }} {{ 'xyz'.0 }}")
case("sub/dict_item_vs_attr", "{{ d['items'] }} {{ d.get('items') }} {{ d['x'] }}", d={"items": "k", "x": 1})
case("sub/tuple_index", "{{ (1, 2)[0] }} {{ (1, 2, 3)[1:] }}")
case("sub/slice_none", "{{ [1,2,3][none:2] }} {{ 'abcd'[1:none] }}")

# ---- operators ----
case("op/arith", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} "
     "{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2 ** 3 ** 2 }} {{ 2.0 ** 0.5 }} {{ -2 ** 2 }}")
case("op/concat", "{{ 'a' ~ 1 ~ none ~ true ~ [1] }} {{ 'a' ~ missing ~ 'b' }}")
case("op/plus_strings_lists", "{{ 'a' + 'b' }} {{ [1] + [2] }} {{ 'ab' * 3 }} {{ 3 * 'ab' }} {{ [0] * 3 }} {{ 'x' * 0 }}| {{ 'x' * -1 }}| {{ (1,) + (2,) }}")
case("op/unary", "{{ -3 }} {{ - 'ab'|length }} {{ +5 }} {{ -(-2) }} {{ - 1.5 }} {{ -true }}")
case("op/bool_arith", "{{ true + 1 }} {{ true * 3 }} {{ 3 / 2 }} {{ 4 / 2 }} {{ true / 2 }}")
case("op/compare", "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1,2] < [1,3] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} "
     "{{ 'a' != 'b' }} {{ 2 >= 2 }} {{ 1 <= 0 }} {{ [1] == [1] }} {{ [1] == (1,) }} {{ {'a': 1} == {'a': 1} }} {{ none == none }} {{ 'B' < 'a' }} {{ 'é' > 'z' }}")
case("op/in", "{{ 'a' in 'cat' }} {{ 1 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 'x' not in 'abc' }} {{ 3 not in [1,2] }} {{ 'v' in {'k': 'v'} }} {{ '' in 'abc' }}")
case("op/logic", "{{ 1 and 'x' }} {{ 0 and 'x' }} {{ 0 or 'y' }} {{ '' or [] }} {{ not 0 }} {{ not 'a' }} {{ none or 'z' }} {{ [] and 1 }}")
case("op/ternary", "{{ 'y' if true else 'n' }} {{ 'y' if false }}|{{ 'a' if false else 'b' if true else 'c' }} {{ 1 if [] else 2 }}")
case("op/precedence_filter", "{{ 'a' + 'b'|upper }} {{ ('a' + 'b')|upper }} {{ 1 + [1,2]|length }} {{ not true == false }}")
case("op/is_precedence", "{{ not none is none }} {{ 1 + 1 is number }} {{ none is not none or true }}")
case("op/chained_compare_mixed", "{{ 1 < 2 == 2 }} {{ 1 == 1 in [True] }}")

case("op/percent_format", "{{ '%s-%s' % (1, 'a') }}|{{ '%d' % 2.7 }}|{{ '%(a)s' % {'a': 1} }}|{{ '%r' % 'x' }}|"
     "{{ '%5s|%-4d|%05.1f' % ('a', 3, 2.25) }}|{{ '%s' % none }}|{{ '%x %X %o %#x' % (255, 255, 8, 255) }}|{{ 'abc' % [] }}|"
     "{{ '%+d % d %03d %.3d' % (5, 5, -5, 7) }}|{{ '%c%c' % (65, 'é') }}|{{ '%e %g %G' % (12345.678, 0.0001, 1e20) }}|"
     "{{ '%s' % [1, 'a'] }}|{{ '%%' % () }}|{{ '%*d|%-*d|%.*f' % (4, 1, 4, 2, 2, 3.14159) }}|{{ '%.2s' % 'héllo' }}")
case("op/percent_format_content", "{% for m in messages %}{{ '%s: %s\\n' % (m.role, m.content) }}{% endfor %}", messages=MSGS)
case("err/percent_not_all_converted", "{{ 'abc' % 5 }}")
case("err/percent_not_enough", "{{ '%s %s' % ('a',) }}")
case("err/percent_bad_type", "{{ '%d' % 'x' }}")
case("filter/unicode_case", "{{ 'éàü ßtraße ÿ'|upper }} {{ 'ÉÀÜ ΑΒΓ АБВ'|lower }} {{ 'élan vital'|title }} {{ 'über'|capitalize }} "
     "{{ 'ÀB' is upper }} {{ 'àb' is lower }} {{ 'ёж'|upper }} {{ 'αβγ'.upper() }} {{ 'ŁÓDŹ'.lower() }} {{ 'ΟΔΟΣ ΣΑ'|lower }} {{ 'ÀéΣ'.capitalize() }}")

# ---- undefined ----
case("undef/basic", "{{ missing }}|{{ missing is defined }}|{{ missing is undefined }}|{{ missing|default('d') }}|{{ missing is none }}")
case("undef/dict_missing", "{{ d.missing }}|{{ d['missing'] }}|{{ d.missing is defined }}|{{ d.k is defined }}", d={"k": 1})
case("undef/filters", "{{ missing|length }} [{{ missing|trim }}] [{{ missing|upper }}] [{{ missing|join(',') }}] {{ missing|list }} "
     "[{{ missing|first }}] {{ missing == missing }} {{ missing == none }} {{ 'a' in missing }} {{ missing|string }}|")
case("undef/loop_else", "{% for x in missing %}x{% else %}empty{% endfor %}")
case("undef/if", "{% if missing %}y{% else %}n{% endif %}{% if not missing %}!{% endif %}")
case("undef/none_attr", "{{ none.x }}|{{ 5.x }}|{{ [1,2].x }}|{{ 'abc'.nope }}|")
case("undef/err_attr", "{{ missing.attr }}")
case("undef/err_item", "{{ missing['x'] }}")
case("undef/err_nested", "{{ d.missing.x }}", d={})
case("undef/err_add", "{{ missing + 'a' }}")
case("undef/err_tojson", "{{ missing|tojson }}")
case("undef/err_call", "{{ missing() }}")
case("undef/err_none_chain", "{{ none.x.y }}")
case("undef/err_index_chain", "{{ [1,2][5].x }}")
case("undef/err_compare", "{{ missing < 1 }}")
case("undef/err_method", "{{ 'abc'.foo() }}")

# ---- set and scoping ----
case("set/basic", "{% set x = 1 %}{% set y = x + 1 %}{{ x }}{{ y }}")
case("set/unpack", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c, d = 'xy' %}{{ c }}{{ d }}")
case("set/err_unpack", "{% set a, b = [1] %}")
case("set/loop_scope", "{% set x = 1 %}{% for i in [1,2] %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}")
case("set/loop_iteration_fresh", "{% for i in [1,2] %}{% if i == 2 %}[{{ x }}]{% endif %}{% set x = i %}{% endfor %}")
case("set/no_leak", "{% for i in [1,2] %}{% set x = i %}{% endfor %}[{{ x }}]")
case("set/if_scope", "{% if true %}{% set x = 5 %}{% endif %}{{ x }}")
case("set/namespace", "{% set ns = namespace(count=0, found=false) %}{% for i in [1,2,3] %}{% set ns.count = ns.count + i %}"
     "{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.found }}")
case("set/namespace_repr", "{% set ns = namespace() %}{% set ns.x = 'v' %}{{ ns.x }} {{ ns }}")
case("set/namespace_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}")
case("set/err_not_namespace", "{% set x = 1 %}{% set x.y = 2 %}")
case("set/block", "{% set s %}a{{ 1 }}b{% endset %}[{{ s }}]")
case("set/block_lines", "{% set s %}\n  line\n{% endset %}[{{ s|trim }}]")
case("set/reassign_messages", "{% set messages = messages[1:] %}{{ messages|length }}", messages=MSGS)
case("set/nested_loops", "{% for a in [1,2] %}{% for b in ['x','y'] %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}")
case("set/outer_loop", "{% for a in [1] %}{% set outer = loop %}{% for b in [1,2] %}{{ outer.index }}{{ loop.index }}{% endfor %}{% endfor %}")
case("set/block_scope", "{% set x %}{% set y = 1 %}a{% endset %}[{{ y }}]{{ x }}|{% set x = 5 %}{% set y %}{{ x }}{% set x = 6 %}{% endset %}{{ y }}{{ x }}")
case("set/tuple_value", "{% set t = 1, 'a' %}{{ t }}")
case("set/in_loop_visible_in_nested", "{% for a in [1] %}{% set v = 'V' %}{% for b in [1] %}{{ v }}{% endfor %}{% endfor %}")

# ---- loops ----
case("for/loop_vars", "{% for x in [1,2,3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}"
     "{{ loop.revindex }}{{ loop.revindex0 }} {% endfor %}")
case("for/else", "{% for x in [] %}a{% else %}none{% endfor %}")
case("for/items", "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}")
case("for/dict_keys", "{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}")
case("for/filter", "{% for x in [1,2,3,4] if x is even %}{{ x }}{{ loop.index }}{{ loop.length }}{% endfor %}")
case("for/filter_else", "{% for x in [1,3] if x is even %}{{ x }}{% else %}no evens{% endfor %}")
case("for/continue", "{% for x in [1,2,3] %}{% if x == 2 %}{% continue %}{% endif %}{{ x }}{% endfor %}")
case("for/break", "{% for x in [1,2,3] %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}")
case("for/break_nested", "{% for x in [1,2] %}{% for y in [1,2,3] %}{% if y == 2 %}{% break %}{% endif %}{{ x }}{{ y }} {% endfor %}{% endfor %}")
case("for/prev_next", "{% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}")
case("for/cycle", "{% for x in [1,2,3] %}{{ loop.cycle('a','b') }}{% endfor %}")
case("for/unpack", "{% for a, b in [[1,2],[3,4]] %}{{ a + b }}{% endfor %}{% for (a, b) in [(1,2)] %}{{ a }}{{ b }}{% endfor %}")
case("for/unicode_string", "{% for x in 'héllo' %}{{ x }}|{% endfor %}")
case("for/range", "{% for x in range(3) %}{{ x }}{% endfor %} {% for x in range(1, 10, 3) %}{{ x }}{% endfor %} "
     "{% for x in range(5, 0, -2) %}{{ x }}{% endfor %} {{ range(0)|list }}")
case("for/loop_outside", "[{{ loop.index }}]")
case("for/loop_repr", "{% for x in [1,2] %}{{ loop }}{% endfor %}")
case("for/err_none", "{% for x in none %}{% endfor %}")
case("for/err_int", "{% for x in 5 %}{% endfor %}")
case("for/err_unpack", "{% for a, b in [1] %}{% endfor %}")
case("for/messages", "{% for m in messages %}{{ loop.index }}:{{ m['role'] }}={{ m['content'] }}\n{% endfor %}", messages=MSGS)
case("for/over_tuple_items", "{% for k, v in d|items %}{{ k }}{{ v }}{% endfor %}", d={"z": 1, "y": 2})
case("for/else_after_break", "{% for i in [1,2] %}{{ i }}{% break %}{% else %}ELSE{% endfor %}|"
     "{% for i in [1,2] %}{% continue %}{% else %}E{% endfor %}|{% for i in [1,2] %}{% if i == 2 %}{% continue %}{% endif %}{% else %}E{% endfor %}|"
     "{% for i in [] %}{% else %}{% set y = 1 %}{% endfor %}[{{ y }}]")
case("for/colon", "{% for x in [1]: %}{{ x }}{% endfor %}")

# ---- if ----
case("if/chain", "{% if 0 %}a{% elif '' %}b{% elif [1] %}c{% else %}d{% endif %}")
case("if/defined_and", "{% if x is defined and x %}y{% else %}n{% endif %}", x=1)
case("if/not_messages", "{% if not messages %}empty{% endif %}")
case("if/else_only", "{% if false %}a{% else %}b{% endif %}")
case("if/nested", "{% if true %}{% if false %}x{% elif true %}y{% endif %}{% endif %}")

# ---- tests ----
case("test/types", "{{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 'a' is number }} {{ 1 is integer }} "
     "{{ true is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is mapping }}")
case("test/iter", "{{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ {} is iterable }} {{ [] is sequence }} "
     "{{ {} is sequence }} {{ 1 is sequence }} {{ missing is sequence }} {{ missing is iterable }} {{ none is iterable }}")
case("test/bools", "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ none is none }} {{ 0 is none }}")
case("test/numbers", "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ -3 is odd }} {{ 0 is even }}")
case("test/compare", "{{ 2 is eq 2 }} {{ 2 is equalto 3 }} {{ 'a' is in 'abc' }} {{ 1 is lt 2 }} {{ 2 is gt 1 }} {{ 2 is ne 3 }} "
     "{{ 2 is ge 2 }} {{ 2 is le 1 }} {{ 1 is in [1] }}")
case("test/case", "{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'Abc' is lower }} {{ '123' is lower }}")
case("test/sameas", "{{ none is sameas none }} {{ true is sameas true }} {{ 1 is sameas true }}")
case("test/not", "{{ x is not none }} {{ x is not defined }} {{ x is not string }}", x=1)
case("test/callable", "{{ 'abc' is callable }} {{ 'abc'.upper is callable }} {{ missing is callable }} {{ range is callable }}")
case("test/escaped", "{{ 'a' is escaped }} {{ ('a'|safe) is escaped }} {{ ('a'|e) is escaped }}")
case("test/in_filter_chain", "{{ messages|selectattr('role', 'equalto', 'user')|list|length }}", messages=MSGS)

# ---- filters ----
case("filter/trim", "[{{ '  a b \n'|trim }}] [{{ 'xxaxx'|trim('x') }}] [{{ 5|trim }}] [{{ '\u3000a\u00a0'|trim }}]")
case("filter/length", "{{ 'héllo'|length }} {{ [1,2]|count }} {{ {'a':1}|length }} {{ ''|length }}")
case("filter/case", "{{ 'hello WORLD'|upper }} {{ 'Hello'|lower }} {{ 'hELLO world'|capitalize }} {{ 'hello-world foo(bar [baz <q'|title }} "
     "{{ 'x1y zz'|title }} {{ \"they're\"|title }}")
case("filter/tojson", r"""{{ {'b': 1, 'a': [1, 2.5, none, true, 'x<y>&\'"é😀\n']}|tojson }}""")
case("filter/tojson_indent", "{{ [1, {'a': 2, 'b': []}, {}]|tojson(indent=2) }}")
case("filter/tojson_misc", "{{ {}|tojson }} {{ []|tojson(indent=2) }} {{ 'a'|tojson }} {{ 1.0|tojson }} {{ (1,2)|tojson }} {{ none|tojson }} {{ 1e100|tojson }}")
case("filter/tojson_markup_plus", "{{ '<b>' + x|tojson + '</b>' }}", x=["a"])
case("filter/tojson_markup_tilde", "{{ '<b>' ~ x|tojson ~ '</b>' }}", x=["a"])
case("filter/tojson_tools", "{% for t in tools %}{{ t|tojson }}\n{% endfor %}", tools=TOOLS)
case("filter/tojson_ctrl", "{{ '\x01\x7f\u2028'|tojson }}")
case("filter/hf_tojson", r"""{{ {'b': 1, 'a': [1, 2.5, none, true, 'x<y>&\'"é😀\n']}|tojson }}|{{ x|tojson(indent=2) }}|{{ x|tojson(separators=(',', ':')) }}|{{ x|tojson(sort_keys=true) }}|{{ 'é'|tojson(ensure_ascii=true) }}""",
     hf_tojson=True, x={"z": 1, "a": [1, 2]})
case("filter/hf_tojson_plus", "{{ '<b>' + x|tojson + '</b>' }}", hf_tojson=True, x=["a"])
case("filter/hf_tojson_tools", "{% for t in tools %}{{ t|tojson }}\n{% endfor %}", hf_tojson=True, tools=TOOLS)
case("filter/string", "{{ 1|string }} {{ none|string }} {{ [1]|string }} {{ (1|string) + 'a' }} {{ 1.5|string }}")
case("filter/join", "{{ [1,2,3]|join(', ') }} {{ ['a','b']|join }} {{ [{'n':'x'},{'n':'y'}]|join('/', attribute='n') }} {{ 'abc'|join('-') }} {{ [none, true]|join(',') }}")
case("filter/default", "{{ missing|default('x') }} {{ ''|default('x') }} {{ ''|default('x', true) }} {{ none|default('x') }} "
     "{{ missing|d('y') }} [{{ missing|default }}] {{ 0|default(5, boolean=true) }}")
case("filter/first_last", "{{ [1,2,3]|first }} {{ [1,2,3]|last }} {{ 'abc'|first }} {{ 'abc'|last }} {{ {'a':1,'b':2}|first }} "
     "{{ {'a':1,'b':2}|last }} [{{ []|first }}] [{{ []|last }}]")
case("filter/items", "{% for k, v in {'a': 1, 'b': 2}|items %}{{ k }}{{ v }}{% endfor %}{% for k, v in missing|items %}x{% endfor %}")
case("filter/replace", "{{ 'aaa'|replace('a', 'b') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }} {{ 1|replace('1', 'x') }} {{ 'ab'|replace('', '-', 2) }}")
case("filter/numbers", "{{ -3|abs }} {{ -2.5|abs }} {{ '42'|int }} {{ '42.7'|int }} {{ 'x'|int }} {{ 'x'|int(5) }} {{ '0x1A'|int(0, 16) }} "
     "{{ 3.9|int }} {{ '3.5'|float }} {{ 'x'|float }} {{ 2|float }} {{ ' 12 '|int }} {{ '1_000'|int }} {{ '-7'|int }} {{ '0b11'|int(0, 0) }} {{ 'ff'|int(0, 16) }} {{ true|int }} {{ none|int }} {{ '1e3'|float }} {{ 'inf'|float }}")
case("filter/list_reverse", "{{ 'abc'|list }} {{ {'a':1}|list }} {{ [1,2,3]|reverse|list }} {{ 'abc'|reverse }} {{ 'héllo'|reverse }}")
case("filter/map_select", "{{ [{'n': 'a'}, {'n': 'b'}]|map(attribute='n')|join(',') }} {{ ['a','b']|map('upper')|join }} "
     "{{ [1,2,3,4]|select('odd')|list }} {{ [1,2,3,4]|reject('odd')|list }} {{ [0,1,'',none,'x']|select|list }} "
     "{{ [{'a': {'b': 1}}, {'a': {'b': 2}}]|map(attribute='a.b')|list }} {{ [{'n': 1}, {}]|map(attribute='n', default=0)|list }} "
     "{{ ['a', 'bb']|map('length')|list }} {{ [1, 5, 10]|select('gt', 3)|list }} {{ ['x', 'y']|map('replace', 'x', 'z')|list }}")
case("filter/selectattr", "{{ messages|selectattr('role', 'equalto', 'system')|list|length }} "
     "{{ messages|rejectattr('role', 'eq', 'system')|map(attribute='content')|join('|') }} "
     "{{ messages|selectattr('tool_calls')|list|length }} {{ messages|selectattr('role', 'in', ['user', 'assistant'])|list|length }}", messages=MSGS)
case("filter/indent", "{{ 'a\nb\n\nc'|indent }}|{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb'|indent(2, blank=true) }}|{{ 'a\nb'|indent('> ') }}|{{ ''|indent(first=true) }}")
case("test/mod_semantics", "{{ 3.0 is odd }} {{ -2.0 is even }} {{ '%s' is divisibleby(3) }} {{ 7.5 is divisibleby(2.5) }} {{ true is odd }}")
case("filter/map_falsy", "{{ none|map('upper')|list }} {{ false|select|list }} {{ 0|rejectattr('x')|list }} {{ ''|map('upper')|list }}")
case("err/unique_unhashable", "{{ [{'a': 1}]|unique|list }}")
case("err/indent_list", "{{ [1]|indent }}")
case("err/int_undefined", "{{ missing|int }}")
case("err/slice_int", "{{ x[1:] }}", x=5)
case("filter/unique_sort", "{{ ['b','A','a','c']|unique|list }} {{ [3,1,2]|sort }} {{ ['b','A','a']|sort }} {{ ['b','A','a']|sort(case_sensitive=true) }} "
     "{{ [3,1,2]|sort(reverse=true) }} {{ [{'k':2},{'k':1}]|sort(attribute='k')|map(attribute='k')|list }} {{ ['a','A']|unique(case_sensitive=true)|list }}")
case("filter/escape_safe", "{{ '<a href=\"x\">&\\'</a>'|e }} {{ '<b>'|safe }} {{ ('<b>'|safe) + '<i>' }} {{ 1|e }} {{ ('<'|e)|e }}")
case("filter/markup_methods", "{{ ('<b> x '|safe).strip() }}|{{ ('<b>'|safe).upper() }}|{{ ('a<b'|safe).replace('<', '&') }}|{{ ('a b'|safe).split() }}")
case("filter/attr", "{{ d|attr('k') }}|{{ 'abc'|attr('upper') is callable }}", d={"k": 1})
case("filter/chained", "{{ '  Hello  '|trim|lower|replace('l', 'L')|length }} {{ messages|map(attribute='role')|unique|list|join(',') }}", messages=MSGS)
case("filter/err_length_int", "{{ 5|length }}")
case("filter/err_items", "{{ [1]|items|list }}")

# ---- methods ----
case("method/strip", "[{{ '  ab  '.strip() }}] [{{ 'xxabxx'.strip('x') }}] [{{ '  ab'.lstrip() }}] [{{ 'ab  '.rstrip() }}] [{{ 'abcba'.strip('ab') }}] [{{ '\\n\\t a \\r\\n'.strip() }}]")
case("method/affixes", "{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith('bc') }} {{ 'abc'.startswith(('x', 'a')) }} {{ 'abc'.endswith('x') }} {{ ''.startswith('') }}")
case("method/split", "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ ' a b c '.split(none, 1) }} {{ ''.split() }} {{ ''.split(',') }} {{ 'a<think>b'.split('<think>')[-1] }}")
case("method/case", "{{ 'abc'.upper() }} {{ 'ABC'.lower() }} {{ 'aXa'.replace('a', 'b') }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'aaa'.replace('a', 'b', 1) }} {{ \"they're 1st\".title() }}")
case("method/misc", "{{ 'a\\nb\\r\\nc'.splitlines() }} {{ 'hello'.find('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ ', '.join(['a', 'b']) }} "
     "{{ 'x1'.isdigit() }} {{ '12'.isdigit() }} {{ 'ab'.isalpha() }} {{ ' '.isspace() }} {{ 'abc'.removeprefix('a') }} {{ 'abc'.removesuffix('c') }} {{ 'héllo'.find('l') }}")
case("method/dict", "{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {{ d.items()|length }}", d={"a": 1, "b": 2})
case("method/list", "{{ [1, 2, 1].count(1) }} {{ [1, 2].index(2) }}")
case("method/err_unknown", "{{ 'x'.nope() }}")
case("method/err_append", "{{ [1].append(2) }}")
case("method/err_dict_update", "{{ {}.update({'a': 1}) }}")
case("method/err_join_int", "{{ ','.join([1, 2]) }}")
case("method/err_split_empty", "{{ 'a'.split('') }}")

# ---- globals ----
case("global/raise", "{{ raise_exception('boom') }}")
case("global/raise_conditional", "{% if messages|length == 0 %}{{ raise_exception('no messages') }}{% endif %}ok")
case("global/dict", "{{ dict(a=1, b='x') }} {{ dict({'k': 1}, z=2) }}")
case("global/namespace_attr", "{{ namespace(a=1).a }}")
case("global/range_list", "{{ range(3)|list }} {{ range(2, -3, -2)|list }} {{ range(3)|length }}")
case("global/err_range_big", "{{ range(1000000)|length }}")
case("global/special_tokens", "{{ bos_token }}|{{ eos_token }}|{{ tools }}|{{ documents }}|{{ add_generation_prompt }}")

# ---- syntax errors (jinja2 also rejects these) ----
case("err/unclosed_if", "{% if x %}a")
case("err/unclosed_for", "{% for x in y %}a")
case("err/unclosed_var", "{{ x ")
case("err/half_close", "{{ x }")
case("err/stray_endif", "{% endif %}")
case("err/unknown_tag", "{% frobnicate %}")
case("err/unterminated_string", "{{ 'abc }}")
case("err/unclosed_comment", "{# never closed")
case("err/unbalanced_paren", "{{ (1 }}")
case("err/dangling_op", "{{ 1 + }}")
case("err/unclosed_list", "{{ [1, }}")
case("err/for_no_target", "{% for %}{% endfor %}")
case("err/set_no_target", "{% set %}")
case("err/double_else", "{% if true %}{% else %}{% else %}{% endif %}")
case("err/mismatched_end", "{% for x in y %}{% endif %}")
case("err/unknown_filter", "{{ x|frobnicate }}")
case("err/unknown_test", "{{ x is frobnicate }}")
case("err/empty_output", "{{ }}")
case("err/bad_char", "{{ 1 $ 2 }}")
case("err/int_plus_str", "{{ 1 + 'a' }}")
case("err/str_plus_int", "{{ 'a' + 1 }}")
case("err/div_zero", "{{ 1 / 0 }}")
case("err/floordiv_zero", "{{ 1 // 0 }}")
case("err/mod_zero", "{{ 1 % 0 }}")
case("err/order_mixed", "{{ 'a' < 1 }}")
case("err/none_plus", "{{ none + 1 }}")
case("err/list_plus_tuple", "{{ [1] + (2,) }}")
case("err/call_int", "{{ 1() }}")
case("err/slice_step_zero", "{{ [1,2][::0] }}")
case("err/unpack_too_many", "{% set a, b = [1, 2, 3] %}")
case("err/kwarg_repeat", "{{ dict(a=1, a=2) }}")
case("err/test_chain", "{{ 1 is number is number }}")
case("err/assign_const", "{% set true = 1 %}")
case("err/elif_after_else", "{% if true %}{% else %}{% elif false %}{% endif %}")
case("err/endfor_extra", "{% for x in [1] %}{% endfor x %}")
case("err/raw_unclosed", "{% raw %}abc")
case("err/in_int", "{{ 1 in 5 }}")
case("err/in_str_int", "{{ 1 in 'abc' }}")

# ---- real-world style templates ----
case("real/llama3", LLAMA3, messages=MSGS, add_generation_prompt=True)
case("real/llama3_tools", LLAMA3, messages=[{"role": "system", "content": "  Sys  "}] + TOOL_MSGS[:3], tools=TOOLS,
     add_generation_prompt=True, date_string="01 Jan 2025")
case("real/llama3_hf", LLAMA3, hf_tojson=True, messages=[{"role": "system", "content": "  Sys  "}] + TOOL_MSGS[:3],
     tools=TOOLS, add_generation_prompt=True)
case("real/llama3_multi_call", LLAMA3, messages=[{"role": "assistant", "content": "", "tool_calls": [
    {"function": {"name": "a", "arguments": {}}}, {"function": {"name": "b", "arguments": {}}}]}])
case("real/qwen", QWEN, messages=MSGS, add_generation_prompt=True)
case("real/qwen_tools", QWEN, messages=TOOL_MSGS, tools=TOOLS, add_generation_prompt=False)
case("real/qwen_tools_hf", QWEN, hf_tojson=True, messages=TOOL_MSGS, tools=TOOLS, add_generation_prompt=True)
case("real/chatml_plain", CHATML_PLAIN, messages=MSGS[1:], add_generation_prompt=True)
case("real/chatml_plain_system", CHATML_PLAIN, messages=MSGS, add_generation_prompt=False)
case("real/mistral", MISTRAL, messages=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                                        {"role": "user", "content": "c"}])
case("real/mistral_alternate_error", MISTRAL, messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
case("real/deepseek", DEEPSEEK, messages=[{"role": "system", "content": "S"}, {"role": "user", "content": "q"},
                                          {"role": "assistant", "content": "<think>\nhm\n</think>\n\nanswer"},
                                          {"role": "user", "content": "again"}], add_generation_prompt=True)
case("real/gemma", GEMMA, messages=MSGS, add_generation_prompt=True)
case("real/gemma_no_system", GEMMA, messages=MSGS[1:3], add_generation_prompt=False)
with open(PHI4_PATH) as f:
    PHI4 = json.load(f)["chat_template"]
case("real/phi4_tools", PHI4, messages=[{"role": "system", "content": "S", "tools": json.dumps(TOOLS)},
                                        {"role": "user", "content": "u"}], add_generation_prompt=True)
case("real/phi4_tools_none", PHI4, messages=[{"role": "system", "content": "S", "tools": None}], add_generation_prompt=False)


def hf_tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def render(c):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.globals["raise_exception"] = raise_exception
    if c["hf_tojson"]:
        env.filters["tojson"] = hf_tojson
    variables = {"bos_token": "<s>", "eos_token": "</s>", "tools": None, "documents": None, "messages": [],
                 "add_generation_prompt": False}
    variables.update(c["vars"])
    return env.from_string(c["template"]).render(**variables)


def main():
    out = sys.stdout
    out.write(json.dumps({"comment": f"Expected outputs rendered by Python jinja2 {jinja2.__version__} "
                                     "(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols) "
                                     "with tests/text/chat_template_cases_gen.py; 'error' rows failed in jinja2 "
                                     "and must fail here."}) + "\n")
    for c in CASES:
        row = {"name": c["name"], "template": c["template"], "vars": c["vars"]}
        if c["hf_tojson"]:
            row["hf_tojson"] = True
        try:
            row["expected"] = render(c)
        except Exception as e:  # the C++ side only checks that it fails too
            row["error"] = f"{type(e).__name__}: {e}"
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    sys.stderr.write(f"{len(CASES)} cases from jinja2 {jinja2.__version__}\n")


if __name__ == "__main__":
    main()
