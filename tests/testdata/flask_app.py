"""The seed microservice: a Flask + Flask-SQLAlchemy app whose User model
relies on AUTO_INCREMENT. Run unchanged against the proxy, with the database
URL in DATABASE_URL; prints one JSON line describing what it saw."""
import json
import os
import sys

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db = SQLAlchemy(app)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    age = db.Column(db.Integer)


@app.post("/users")
def create_user():
    user = User(name=request.json["name"], age=request.json.get("age"))
    db.session.add(user)
    db.session.commit()
    return jsonify(id=user.id), 201


@app.get("/users/<int:user_id>")
def get_user(user_id):
    user = db.session.get(User, user_id)
    if user is None:
        return jsonify(error="not found"), 404
    return jsonify(id=user.id, name=user.name, age=user.age)


def main():
    with app.app_context():
        db.create_all()
    client = app.test_client()
    ids = []
    for i in range(int(sys.argv[1])):
        resp = client.post("/users", json={"name": f"user{i}", "age": 20 + i})
        assert resp.status_code == 201, resp.data
        ids.append(resp.get_json()["id"])
    found = []
    for i, user_id in enumerate(ids):
        resp = client.get(f"/users/{user_id}")
        assert resp.status_code == 200, resp.data
        body = resp.get_json()
        found.append(body["name"] == f"user{i}" and body["age"] == 20 + i)
    print(json.dumps({"ids": ids, "all_found": all(found)}))


if __name__ == "__main__":
    main()
