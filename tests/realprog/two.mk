# two.mk - the small Makefile t_realprog.sh runs make on (copied as Makefile):
# two targets, one built from the other, each through a shell pipeline.
all: upper.txt counts.txt

upper.txt: words.txt
	tr a-z A-Z < words.txt > upper.txt

counts.txt: upper.txt
	sort upper.txt | uniq -c | sort -rn | head -5 > counts.txt
	@echo "built $@ from $<"

clean:
	rm -f upper.txt counts.txt
