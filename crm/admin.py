from django.contrib import admin

from crm.models import Customer, Interaction, Order, Product, Tag

admin.site.register([Customer, Interaction, Order, Product, Tag])
