SELECT purchase_date, round(sum(amount), 2) AS revenue FROM sales_data GROUP BY purchase_date ORDER BY purchase_date
SELECT date_trunc('week', purchase_date) AS week, round(sum(amount), 2) AS revenue FROM sales_data GROUP BY 1 ORDER BY 1
SELECT purchase_month, round(sum(amount), 2) AS revenue, count(*) AS orders FROM sales_data GROUP BY purchase_month ORDER BY purchase_month
SELECT region, round(sum(amount), 2) AS revenue FROM sales_data GROUP BY region ORDER BY revenue DESC
SELECT product_id, round(sum(amount), 2) AS revenue FROM sales_data GROUP BY product_id ORDER BY revenue DESC, product_id LIMIT 10
SELECT region, CAST(count_if(status = 'REFUNDED') AS DOUBLE) / count(*) AS refund_rate FROM sales_data GROUP BY region ORDER BY region
SELECT d, revenue, avg(revenue) OVER (ORDER BY d ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS ma7 FROM (SELECT purchase_date AS d, sum(amount) AS revenue FROM sales_data GROUP BY purchase_date) ORDER BY d
SELECT purchase_month, revenue, revenue / lag(revenue) OVER (ORDER BY purchase_month) - 1 AS growth FROM (SELECT purchase_month, sum(amount) AS revenue FROM sales_data GROUP BY purchase_month) ORDER BY purchase_month
SELECT count(DISTINCT customer_id) AS customers FROM sales_data
SELECT purchase_month, count(DISTINCT customer_id) AS customers FROM sales_data GROUP BY purchase_month ORDER BY 1
SELECT region, round(sum(amount), 2) AS revenue FROM sales_data WHERE purchase_month = '2025-08' GROUP BY region ORDER BY region
SELECT count(*) AS orders, round(sum(amount), 2) AS revenue FROM sales_data WHERE region = 'Oceania' AND purchase_date BETWEEN DATE '2025-04-01' AND DATE '2025-06-30'
SELECT count(*) AS orders, round(avg(amount), 4) AS avg_amount FROM sales_data WHERE purchase_date >= DATE '2025-08-01'
SELECT purchase_date, amount, status FROM sales_data WHERE customer_id = (SELECT min(customer_id) FROM sales_data WHERE region = 'Africa') ORDER BY purchase_date, amount, status
SELECT customer_id, round(sum(amount), 2) AS total, count(*) AS n FROM sales_data GROUP BY customer_id ORDER BY total DESC, customer_id LIMIT 20
SELECT count(*) AS n FROM sales_data
SELECT status, count(*) AS n, round(sum(amount), 2) AS revenue FROM sales_data GROUP BY status ORDER BY status
SELECT region, purchase_month, round(sum(amount), 2) AS revenue FROM sales_data GROUP BY ROLLUP (region, purchase_month) ORDER BY 1 NULLS LAST, 2 NULLS LAST
SELECT count(*) AS n FROM sales_data WHERE amount > 400
SELECT purchase_month, region, revenue FROM (SELECT purchase_month, region, sum(amount) AS revenue, row_number() OVER (PARTITION BY purchase_month ORDER BY sum(amount) DESC) AS rn FROM sales_data GROUP BY 1, 2) WHERE rn = 1 ORDER BY 1
SELECT day_of_week(purchase_date) AS dow, round(avg(amount), 4) AS avg_amount FROM sales_data GROUP BY 1 ORDER BY 1
SELECT purchase_date, customer_id, product_id, amount, status, region FROM sales_data ORDER BY purchase_date, customer_id, product_id, amount, status
SELECT region, status, count(*) AS n, min(amount) AS smallest, max(amount) AS largest FROM sales_data GROUP BY region, status ORDER BY region, status
SELECT year(purchase_date) AS y, quarter(purchase_date) AS q, round(sum(amount), 2) AS revenue, round(sum(amount) FILTER (WHERE status = 'COMPLETED'), 2) AS completed FROM sales_data GROUP BY 1, 2 ORDER BY 1, 2
SELECT r.region, r.revenue, round(100 * r.revenue / t.total, 3) AS share FROM (SELECT region, sum(amount) AS revenue FROM sales_data GROUP BY region) r CROSS JOIN (SELECT sum(amount) AS total FROM sales_data) t ORDER BY r.region
