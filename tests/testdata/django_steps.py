# Prints what Django's ORM (Debian's python3-django, over mysqlclient) sees
# for a series of model operations, so that the output through the proxy
# can be compared with MariaDB's (tests/orm_test.go). On MariaDB 10.5+
# Django inserts with INSERT ... RETURNING and matches the returned ids to
# its objects by position. Run it as:
#   python3 django_steps.py host port user password database
import datetime
import decimal
import sys

import django
from django.conf import settings

from transcript import show, step

host, port, user, password, database = sys.argv[1:6]
settings.configure(
    DATABASES={'default': {'ENGINE': 'django.db.backends.mysql', 'HOST': host, 'PORT': port,
                           'USER': user, 'PASSWORD': password, 'NAME': database,
                           'OPTIONS': {'charset': 'utf8mb4'}}},
    INSTALLED_APPS=[], USE_TZ=False)
django.setup()

from django.db import IntegrityError, connection, models, transaction  # noqa: E402
from django.db.models import Avg, Count, DecimalField, F, Max, Min, Q, Sum, Value  # noqa: E402
from django.db.models.functions import Coalesce, Round  # noqa: E402


class Tag(models.Model):  # a global table on the sharded schema
    name = models.CharField(max_length=20)

    class Meta:
        app_label = 'dj'
        db_table = 'dj_tag'


class Item(models.Model):  # sharded by id, which the proxy generates
    name = models.CharField(max_length=30)
    qty = models.IntegerField(default=0)
    price = models.DecimalField(max_digits=8, decimal_places=2, null=True)
    created = models.DateTimeField()
    tag = models.ForeignKey(Tag, null=True, on_delete=models.SET_NULL)

    class Meta:
        app_label = 'dj'
        db_table = 'dj_item'


class Doc(models.Model):  # sharded by id: column types and JSON lookups
    data = models.JSONField(null=True)
    uid = models.UUIDField(null=True)
    blob = models.BinaryField(null=True)
    took = models.DurationField(null=True)
    flag = models.BooleanField(default=False)
    at = models.DateTimeField(null=True)

    class Meta:
        app_label = 'dj'
        db_table = 'dj_doc'


class Note(models.Model):  # not listed: on the default shard
    title = models.CharField(max_length=30, unique=True)
    body = models.TextField(null=True)

    class Meta:
        app_label = 'dj'
        db_table = 'dj_note'


with connection.cursor() as cur:
    for table in ('dj_item', 'dj_doc', 'dj_note', 'dj_tag'):
        cur.execute('DROP TABLE IF EXISTS ' + table)
with connection.schema_editor() as editor:
    for model in (Tag, Item, Doc, Note):
        editor.create_model(model)

show('returns ids from insert', connection.features.can_return_columns_from_insert)
at = datetime.datetime(2020, 1, 2, 3, 4, 5, 123456)
tags = Tag.objects.bulk_create([Tag(id=i, name='t%d' % i) for i in (1, 2, 3)])
show('tags', [t.pk for t in tags])
first = Item.objects.create(name='first', qty=1, price=decimal.Decimal('1.50'), created=at, tag_id=1)
show('create', [first.pk, first.name])
items = Item.objects.bulk_create([
    Item(name='b%d' % i, qty=i % 3, price=decimal.Decimal(i) / 4, created=at + datetime.timedelta(days=i),
         tag_id=(i % 3) + 1 if i % 4 else None)
    for i in range(1, 10)])
show('bulk_create ids', [i.pk for i in items])
show('rows by those ids', list(Item.objects.filter(pk__in=[i.pk for i in items]).order_by('pk').values_list('pk', 'name')))
given = Item.objects.bulk_create([Item(id=1000 + i, name='g%d' % i, created=at) for i in (3, 1, 2)])
show('bulk_create given ids', [i.pk for i in given])

step('get', lambda: Item.objects.values('name', 'qty', 'price').get(pk=first.pk))
step('filter order', lambda: list(Item.objects.filter(qty__gte=1).order_by('-qty', 'name').values_list('name', 'qty')))
step('slice', lambda: list(Item.objects.order_by('created', 'id').values_list('name', flat=True)[2:5]))
step('first last', lambda: [Item.objects.order_by('name').first().name, Item.objects.order_by('name').last().name])
step('count exists', lambda: [Item.objects.count(), Item.objects.filter(name='nope').exists(), Item.objects.filter(qty=2).exists()])
step('aggregate', lambda: Item.objects.aggregate(n=Count('id'), total=Sum('price'), avg=Avg('qty'), hi=Max('price'), lo=Min('created')))
step('group by', lambda: list(Item.objects.values('qty').annotate(n=Count('id'), s=Sum('price')).order_by('qty')))
step('counts of querysets', lambda: [Item.objects.values('qty').distinct().count(),
                                     Item.objects.values('qty').annotate(n=Count('id')).count(),
                                     Item.objects.filter(qty__gte=1).order_by('name')[:2].count()])
money = DecimalField(max_digits=10, decimal_places=2)
step('coalesce sum', lambda: [Item.objects.filter(qty__gt=1000).aggregate(t=Coalesce(Sum('qty'), 0)),
                              Item.objects.aggregate(t=Coalesce(Sum('price'), Value(0), output_field=money), r=Round(Avg('price')))])
step('annotate expressions', lambda: list(Item.objects.values('qty').annotate(
    t=Coalesce(Sum('price'), Value(0), output_field=money), twice=Avg('price') * 2, spread=Max('qty') - Min('qty')).order_by('-t', 'qty')))
step('distinct', lambda: list(Item.objects.order_by('qty').values_list('qty', flat=True).distinct()))
step('union ordered', lambda: [list(Item.objects.filter(qty__lt=2).values_list('name', 'qty').union(
                                    Item.objects.filter(qty__gte=2).values_list('name', 'qty'), all=True).order_by('-qty', 'name')[:4]),
                                list(Item.objects.values_list('id', 'name').union(Item.objects.filter(qty=0).values_list('id', 'name'), all=True).order_by('name', 'id')),
                                list(Item.objects.values_list('qty').union(Item.objects.filter(qty__gte=1).values_list('qty')).order_by('-qty')),
                                Item.objects.values_list('qty').union(Item.objects.filter(qty__gte=1).values_list('qty')).count()])
step('or filter', lambda: list(Item.objects.filter(Q(qty=0) | Q(name__startswith='g')).order_by('id').values_list('id', flat=True)))
step('select_related', lambda: [(i.name, i.tag.name if i.tag else None) for i in Item.objects.select_related('tag').filter(pk__in=[first.pk, items[3].pk]).order_by('pk')])
step('in_bulk', lambda: sorted((k, v.name) for k, v in Item.objects.in_bulk([first.pk, items[0].pk]).items()))
step('update', lambda: Item.objects.filter(qty=0).update(qty=F('qty') + 10))
step('after update', lambda: list(Item.objects.filter(qty__gte=10).order_by('id').values_list('id', 'qty')))
step('get_or_create', lambda: [(o.name, created) for o, created in (Item.objects.get_or_create(name='first', defaults={'created': at}), Item.objects.get_or_create(name='new', defaults={'created': at, 'qty': 5}))])
step('update_or_create', lambda: [(o.qty, created) for o, created in (Item.objects.update_or_create(name='new', defaults={'qty': 6}),)])
step('save', lambda: (lambda o: (setattr(o, 'qty', 42), o.save(), Item.objects.get(pk=o.pk).qty)[2])(Item.objects.get(pk=first.pk)))


def atomic_update():
    with transaction.atomic():
        row = Item.objects.select_for_update().get(pk=first.pk)
        row.qty += 1
        row.save(update_fields=['qty'])
    return Item.objects.get(pk=first.pk).qty


def atomic_rollback():
    try:
        with transaction.atomic():
            Item.objects.create(name='rolled back', created=at)
            with transaction.atomic():  # a savepoint
                Item.objects.filter(pk=first.pk).update(qty=0)
            raise RuntimeError('undo')
    except RuntimeError:
        pass
    return [Item.objects.filter(name='rolled back').count(), Item.objects.get(pk=first.pk).qty]


def savepoint_rollback():
    with transaction.atomic():
        Item.objects.filter(pk=first.pk).update(qty=7)
        try:
            with transaction.atomic():
                Item.objects.filter(pk=first.pk).update(qty=8)
                raise RuntimeError('inner')
        except RuntimeError:
            pass
    return Item.objects.get(pk=first.pk).qty


step('atomic select_for_update', atomic_update)
step('atomic rollback', atomic_rollback)
step('savepoint rollback', savepoint_rollback)

step('note create', lambda: Note.objects.create(title='a', body='x').pk)
step('note bulk_create', lambda: [n.pk for n in Note.objects.bulk_create([Note(title='b'), Note(title='c', body='y')])])
step('note duplicate', lambda: Note.objects.create(title='a').pk)
step('note bulk duplicate', lambda: [n.pk for n in Note.objects.bulk_create([Note(title='d'), Note(title='b')])])
step('note ignore conflicts', lambda: len(Note.objects.bulk_create([Note(title='e'), Note(title='a')], ignore_conflicts=True)))
step('notes', lambda: list(Note.objects.order_by('id').values_list('id', 'title', 'body')))
step('raw', lambda: [(n.id, n.title) for n in Note.objects.raw('SELECT id, title FROM dj_note WHERE title > %s ORDER BY id', ['a'])])


def executemany():
    with connection.cursor() as cur:
        cur.executemany('INSERT INTO dj_note (title) VALUES (%s)', [('m1',), ('m2',)])
        return cur.rowcount


step('executemany', executemany)
import uuid  # noqa: E402
docs = Doc.objects.bulk_create([
    Doc(data={'a': i, 'tags': ['x', 'y'][:i % 3], 'n': {'k': 'v%d' % i}}, uid=uuid.UUID(int=i), blob=bytes([i, 0, 255]),
        took=datetime.timedelta(seconds=i * 1.5), flag=i % 2 == 0, at=at + datetime.timedelta(microseconds=i))
    for i in range(1, 7)])
show('docs', [d.pk for d in docs])
step('json lookups', lambda: [list(Doc.objects.filter(data__a__gte=3).order_by('id').values_list('id', flat=True)),
                              list(Doc.objects.filter(data__n__k='v2').values_list('id', flat=True)),
                              list(Doc.objects.filter(data__has_key='tags').order_by('-id').values_list('id', flat=True)[:2]),
                              list(Doc.objects.filter(data__tags__contains=['y']).order_by('id').values_list('id', flat=True))])
step('typed values', lambda: [(str(d.uid), bytes(d.blob).hex(), d.took.total_seconds(), d.flag, d.at.isoformat(), d.data)
                              for d in Doc.objects.order_by('id')[:3]])
step('by uuid and time', lambda: [Doc.objects.get(uid=uuid.UUID(int=4)).pk, Doc.objects.filter(at__gt=at + datetime.timedelta(microseconds=4)).count(),
                                  Doc.objects.filter(took__gte=datetime.timedelta(seconds=6)).count()])
step('boolean aggregate', lambda: list(Doc.objects.values('flag').annotate(n=Count('id')).order_by('flag')))


def migrate():
    field = models.IntegerField(null=True)
    field.set_attributes_from_name('extra')
    with connection.schema_editor() as editor:
        editor.add_field(Item, field)
        editor.add_index(Item, models.Index(fields=['name', 'qty'], name='dj_item_name_qty'))
    with connection.cursor() as cur:
        cur.execute('UPDATE dj_item SET extra = qty * 2 WHERE qty > 0')
        cur.execute('SELECT id, extra FROM dj_item WHERE extra IS NOT NULL ORDER BY id')
        rows = cur.fetchall()
    with connection.schema_editor() as editor:
        editor.remove_index(Item, models.Index(fields=['name', 'qty'], name='dj_item_name_qty'))
        editor.remove_field(Item, field)
    return [list(r) for r in rows]


step('migrate', migrate)
step('explain', lambda: len(Item.objects.filter(pk=first.pk).explain()) > 0)
step('delete items', lambda: Item.objects.filter(qty__lt=5).delete())
step('delete tag', lambda: Tag.objects.filter(pk=2).delete())
step('items left', lambda: list(Item.objects.order_by('id').values_list('id', 'name', 'qty', 'tag_id')))
