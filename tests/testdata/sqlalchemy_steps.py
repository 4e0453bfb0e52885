# Prints what SQLAlchemy's ORM and Core (Debian's python3-sqlalchemy 1.4)
# see for a series of operations, over PyMySQL and over mysqlclient, so
# that the output through the proxy can be compared with MariaDB's
# (tests/orm_test.go). Run it as:
#   python3 sqlalchemy_steps.py host port user password database
import datetime
import decimal
import sys

from sqlalchemy import (Column, ForeignKey, Integer, Numeric, String, Text, create_engine, func,
                        insert, select, text, union_all, update)
from sqlalchemy.dialects.mysql import DATETIME, insert as mysql_insert
from sqlalchemy.orm import Session, declarative_base, joinedload, relationship, selectinload

from transcript import show, step

host, port, user, password, database = sys.argv[1:6]
Base = declarative_base()


class Team(Base):  # a global table on the sharded schema
    __tablename__ = 'sa_team'
    id = Column(Integer, primary_key=True, autoincrement=False)
    name = Column(String(20), nullable=False)


class Player(Base):  # sharded by id, which the proxy generates
    __tablename__ = 'sa_player'
    id = Column(Integer, primary_key=True)
    name = Column(String(30), nullable=False)
    score = Column(Numeric(8, 2))
    team_id = Column(Integer, ForeignKey('sa_team.id'))
    joined = Column(DATETIME(fsp=6))
    team = relationship(Team)
    games = relationship('Game', back_populates='player', order_by='Game.id')


class Game(Base):  # sharded by player_id: co-sharded with its player
    __tablename__ = 'sa_game'
    id = Column(Integer, primary_key=True)
    player_id = Column(Integer, ForeignKey('sa_player.id'), nullable=False)
    points = Column(Integer, nullable=False)
    player = relationship(Player, back_populates='games')


class Log(Base):  # not listed: on the default shard
    __tablename__ = 'sa_log'
    id = Column(Integer, primary_key=True)
    body = Column(Text)


at = datetime.datetime(2021, 5, 6, 7, 8, 9, 123456)
for driver in ('pymysql', 'mysqldb'):
    print('=== driver', driver)
    engine = create_engine('mysql+%s://%s:%s@%s:%s/%s?charset=utf8mb4' % (driver, user, password, host, port, database))
    with engine.begin() as conn:
        for table in ('sa_game', 'sa_player', 'sa_team', 'sa_log'):
            # Dropped once; later drivers' ids go on from the first's, as
            # auto_increment does (the proxy's sequence outlives a DROP).
            conn.execute(text(('DROP TABLE IF EXISTS ' if driver == 'pymysql' else 'DELETE FROM ') + table))
    Base.metadata.create_all(engine)

    def dbapi_rollback():  # the driver's own transaction, autocommit off as DBAPI wants
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("INSERT INTO sa_log (body) VALUES ('rolled back')")
            raw.rollback()
            cur.execute("SELECT COUNT(*), @@autocommit FROM sa_log WHERE body = 'rolled back'")
            return list(cur.fetchone())
        finally:
            raw.close()

    step('dbapi rollback', dbapi_rollback)

    with Session(engine) as s:
        s.add_all([Team(id=i, name='team%d' % i) for i in (1, 2, 3)])
        s.commit()
        players = [Player(name='p%d' % i, score=decimal.Decimal(i) / 3, team_id=(i % 3) + 1,
                          joined=at + datetime.timedelta(hours=i)) for i in range(1, 8)]
        s.add_all(players)
        s.flush()
        show('player ids', [p.id for p in players])
        for p in players[:4]:
            p.games = [Game(player_id=p.id, points=p.id * 10 + k) for k in range(3)]
        s.commit()
        ids = [p.id for p in players]

    def session_rollback():
        with Session(engine) as s:
            s.add(Player(name='never', joined=at))
            s.flush()
            s.rollback()
            return s.execute(select(func.count()).where(Player.name == 'never')).scalar()

    step('session rollback', session_rollback)

    with Session(engine) as s:
        step('get', lambda: (lambda p: [p.name, p.score, p.joined, p.team.name])(s.get(Player, ids[2])))
        step('filter order', lambda: s.execute(select(Player.name, Player.score).where(Player.score > 1).order_by(Player.score.desc())).all())
        step('joined load', lambda: [(p.name, [g.points for g in p.games]) for p in s.execute(select(Player).options(joinedload(Player.games)).where(Player.id == ids[1])).unique().scalars()])
        step('selectin load', lambda: [(p.name, [g.points for g in p.games]) for p in s.execute(select(Player).options(selectinload(Player.games)).where(Player.id.in_(ids[:3])).order_by(Player.id)).scalars()])
        step('union_all ordered', lambda: s.execute(union_all(select(Player.name, Player.score).where(Player.score > 1),
                                                              select(Player.name, Player.score).where(Player.score <= 1))
                                                    .order_by(text('score DESC'), text('name')).limit(5)).all())
        step('join global', lambda: s.execute(select(Player.name, Team.name).join(Team).order_by(Player.name).limit(4)).all())
        step('aggregate', lambda: s.execute(select(func.count(Player.id), func.sum(Player.score), func.max(Player.joined), func.avg(Player.team_id))).one())
        step('group by', lambda: s.execute(select(Player.team_id, func.count(), func.min(Player.name)).group_by(Player.team_id).order_by(Player.team_id)).all())
        step('query count', lambda: [s.query(Player).filter(Player.score > 1).count(), s.query(Game.player_id).distinct().count(),
                                     s.query(Game.player_id, func.sum(Game.points)).group_by(Game.player_id).count()])
        step('query exists', lambda: [s.query(s.query(Player).filter(Player.score > 1).exists()).scalar(),
                                      s.query(s.query(Player).filter(Player.name == 'nobody').exists()).scalar()])
        step('coalesce round', lambda: s.execute(select(Player.team_id, func.coalesce(func.sum(Player.score), 0), func.round(func.avg(Player.score), 2),
                                                        func.sum(Player.score) / func.count()).group_by(Player.team_id).order_by(Player.team_id)).all())
        step('games per player', lambda: s.execute(select(Game.player_id, func.sum(Game.points)).group_by(Game.player_id).having(func.sum(Game.points) > 40).order_by(Game.player_id)).all())
        step('for update', lambda: s.execute(select(Player.name).where(Player.id.in_(ids[:2])).order_by(Player.id).with_for_update()).scalars().all())
        step('for share', lambda: s.execute(select(Player.name).where(Player.id.in_(ids[:2])).order_by(Player.id).with_for_update(read=True)).scalars().all())
        s.rollback()

    def nested():
        with Session(engine) as s:
            with s.begin():
                s.add(Player(name='outer', joined=at))
                try:
                    with s.begin_nested():  # SAVEPOINT
                        s.add(Player(name='inner', joined=at))
                        s.flush()
                        s.execute(update(Player).where(Player.id == ids[0]).values(score=99))
                        raise RuntimeError('undo inner')
                except RuntimeError:
                    pass
                with s.begin_nested():
                    s.execute(update(Player).where(Player.id == ids[1]).values(score=42))
            return s.execute(select(Player.name, Player.score).where(Player.name.in_(['outer', 'inner']) | Player.id.in_(ids[:2])).order_by(Player.name)).all()

    step('savepoints', nested)

    def core():
        with engine.begin() as conn:
            r = conn.execute(insert(Log), [{'body': 'a'}, {'body': 'b'}])
            out = [r.rowcount]
            r = conn.execute(insert(Log).values(body='c'))
            out.append(r.inserted_primary_key[0])
            upsert = mysql_insert(Team).values(id=1, name='renamed')
            conn.execute(upsert.on_duplicate_key_update(name=upsert.inserted.name))
            out.append(conn.execute(select(Team.name).where(Team.id == 1)).scalar())
            out.append(conn.execute(insert(Game).prefix_with('IGNORE'), [{'id': 1, 'player_id': ids[0], 'points': 0}]).rowcount)
            out.append(conn.execute(text('SELECT COUNT(*) FROM sa_player WHERE joined > :t'), {'t': at}).scalar())
            return out

    step('core', core)

    def streamed():
        with engine.connect() as conn:
            r = conn.execution_options(stream_results=True).execute(select(Player.id, Player.name).order_by(Player.id))
            return [tuple(row) for row in r.partitions(3)][:2]

    step('stream results', streamed)
    step('bulk update', lambda: (lambda s: (s.execute(update(Player).where(Player.team_id == 2).values(score=Player.score + 1)).rowcount, s.commit())[0])(Session(engine)))
    step('delete', lambda: (lambda s: (s.query(Game).filter(Game.points < 25).delete(), s.commit())[0])(Session(engine)))
    step('left', lambda: Session(engine).execute(select(Player.name, Player.score, func.count(Game.id)).outerjoin(Game).group_by(Player.id, Player.name, Player.score).order_by(Player.name)).all())
    engine.dispose()
