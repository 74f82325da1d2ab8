"""The ceiling for bench/load.py: the same stack (gunicorn, Flask, SQLAlchemy, psycopg, PostgreSQL)
answering a POST with one INSERT and a commit, nothing else."""

import os

from flask import Flask
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["DATABASE_URL"], pool_size=10, max_overflow=20)


@app.post("/insert")
def insert():
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO bench_ceiling (at) VALUES (now())"))
    return "ok"
