from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [('models', '0003_documents_and_evaluation')]

    initial = False

    # Issue 4: the mail outbox and notification settings.
    operations = []
