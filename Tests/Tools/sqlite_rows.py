"""Runs SQL statements on an SQLite database and prints each one's rows as JSON.

Usage: sqlite_rows.py DATABASE SQLFILE
SQLFILE's statements are separated by semicolons; lines starting with -- are comments.
Prints a JSON list with one list of rows per statement; each row a list of values.
"""
import json
import sqlite3
import sys


def main():
    database, sql_file = sys.argv[1:]
    with open(sql_file) as f:
        text = "\n".join(line for line in f.read().splitlines() if not line.strip().startswith("--"))
    db = sqlite3.connect(database)
    results = [db.execute(statement).fetchall() for statement in text.split(";") if statement.strip()]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
