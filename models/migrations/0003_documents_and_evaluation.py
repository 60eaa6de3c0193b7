from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [('models', '0002_tickets_and_portal')]

    initial = False

    # Issue 5: document rules, evaluation settings, resolution days.
    operations = []
