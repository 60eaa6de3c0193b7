from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [('models', '0005_forms')]

    initial = False

    # Issue 8: login throttling and other hardening state.
    operations = []
