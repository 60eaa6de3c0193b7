from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [('models', '0004_notifications')]

    initial = False

    # Issue 6: form templates, versions, submissions.
    operations = []
