"""Validates mam-quantify reports against a JSON Schema with the jsonschema package.

Usage: validate_report.py SCHEMA REPORT [REPORT ...]
Prints one line per problem and exits 1 if any report is invalid; NaN and Infinity, which
Python's json module would accept, count as invalid too.
"""
import json
import sys

import jsonschema


def refuse_constant(name):
    raise ValueError(f"non-JSON constant {name}")


def main():
    schema_path, *reports = sys.argv[1:]
    with open(schema_path) as f:
        schema = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    failed = False
    for path in reports:
        with open(path) as f:
            try:
                report = json.load(f, parse_constant=refuse_constant)
            except ValueError as error:
                print(f"{path}: {error}")
                failed = True
                continue
        for error in sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path)):
            location = "/".join(str(p) for p in error.absolute_path) or "(root)"
            print(f"{path}: {location}: {error.message}")
            failed = True
    print("invalid" if failed else f"valid: {len(reports)} report(s), {validator_class.__name__}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
